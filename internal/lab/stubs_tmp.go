package lab

type poisoning struct{ pending }
