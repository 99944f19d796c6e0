// The function of the aws-go template: answers GET / through the HTTP API (payload format 2.0).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

// request is the part of an HTTP API event (payload format 2.0) that hello reads.
type request struct {
	RawPath string `json:"rawPath"`
}

// response is what the HTTP API turns into the HTTP answer.
type response struct {
	StatusCode int               `json:"statusCode"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
}

func hello(ctx context.Context, event request) (response, error) {
	path := event.RawPath
	if path == "" {
		path = "/"
	}
	body, err := json.Marshal(map[string]string{
		"message": fmt.Sprintf("hello from %s (%s)", os.Getenv("SERVICE_NAME"), os.Getenv("STAGE")),
		"path":    path,
	})
	if err != nil {
		return response{}, err
	}
	return response{
		StatusCode: 200,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       string(body),
	}, nil
}

func main() {
	lambda.Start(hello)
}
