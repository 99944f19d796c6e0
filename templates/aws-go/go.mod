// The module of the aws-go template: its function is the program `bootstrap`, which
// `updraft package` builds with this machine's go for the `provided.al2023` runtime.
module my-service

go 1.22

require github.com/aws/aws-lambda-go v1.47.0
