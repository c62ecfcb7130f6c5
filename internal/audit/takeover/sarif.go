package takeover

import (
	"encoding/json"
	"io"
	"strings"
)

// SARIF 2.1.0 (OASIS) output: the format code-scanning tools (GitHub code
// scanning, DefectDojo, IDEs) read. Only the fields the standard requires
// and a few that make results useful are written.

// SARIFSchema is the JSON schema URI of SARIF 2.1.0.
const SARIFSchema = "https://json.schemastore.org/sarif-2.1.0.json"

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	Name             string       `json:"name"`
	ShortDescription sarifMessage `json:"shortDescription"`
	FullDescription  sarifMessage `json:"fullDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Level      string          `json:"level"`
	Message    sarifMessage    `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties map[string]any  `json:"properties,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// WriteSARIF writes rep as a SARIF 2.1.0 log with one run of the tool
// "rensa" (version toolVersion, may be empty): one rule per Reason, one
// result per finding, located in its zone file and line when it came from
// one, and always by its owner name. Severity maps to the SARIF level:
// critical and high are "error", medium "warning", low and info "note".
func WriteSARIF(w io.Writer, rep Report, toolVersion string) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{
			Name: "rensa", Version: toolVersion,
			InformationURI: "https://github.com/rensa-dns/rensa",
		}},
		Results: []sarifResult{},
	}
	index := map[Reason]int{}
	for i, r := range Reasons() {
		index[r] = i
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{
			ID: "takeover/" + string(r), Name: ruleName(r),
			ShortDescription: sarifMessage{Text: "Dangling record: " + string(r)},
			FullDescription:  sarifMessage{Text: r.Description()},
		})
	}
	for _, f := range rep.Findings {
		loc := sarifLocation{LogicalLocations: []sarifLogical{{Name: f.Owner, FullyQualifiedName: f.Record, Kind: "resource"}}}
		if f.File != "" {
			loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: f.File}}
			if f.Line > 0 {
				loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Line}
			}
		}
		props := map[string]any{"severity": f.Severity.String(), "confidence": f.Confidence, "target": f.Target, "record": f.Record}
		if f.Service != "" {
			props["service"] = f.Service
		}
		run.Results = append(run.Results, sarifResult{
			RuleID: "takeover/" + string(f.Reason), RuleIndex: index[f.Reason], Level: sarifLevel(f.Severity),
			Message:   sarifMessage{Text: f.Owner + " " + f.Type + " " + f.Target + ": " + f.Detail},
			Locations: []sarifLocation{loc}, Properties: props,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: SARIFSchema, Version: "2.1.0", Runs: []sarifRun{run}})
}

// ruleName turns "unregistered-domain" into "UnregisteredDomain".
func ruleName(r Reason) string {
	var b strings.Builder
	for _, part := range strings.Split(string(r), "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return "Dangling" + b.String()
}

func sarifLevel(s Severity) string {
	switch {
	case s >= High:
		return "error"
	case s == Medium:
		return "warning"
	}
	return "note"
}
