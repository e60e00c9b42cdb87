package cloud

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// CredentialsProblem is why AWS did not accept the caller.
type CredentialsProblem int

// The problems a person fixes differently.
const (
	NoCredentials       CredentialsProblem = iota + 1 // none found in the chain
	ExpiredCredentials                                // found, but expired
	RejectedCredentials                               // found, but AWS refused them
	WrongAccount                                      // valid, of another account than the profile's
)

// CredentialsError is a credentials problem said in one line with its fix.
// The SDK's error chain (often five wrapped errors long) stays behind
// Unwrap, for the run log, and out of what a person reads.
type CredentialsError struct {
	Problem CredentialsProblem
	// Account and Want are the caller's and the profile's account, for
	// WrongAccount; Env is the environment.
	Account, Want, Env string
	// Also is another way out a command offers, said after the fix.
	Also string
	Err  error
}

func (e *CredentialsError) Error() string {
	if e.Also != "" {
		return e.line() + "; " + e.Also
	}
	return e.line()
}

func (e *CredentialsError) line() string {
	switch e.Problem {
	case NoCredentials:
		return "no AWS credentials found: set AWS_PROFILE to a profile of ~/.aws/config, or run `aws configure` (`aws sso login` for an SSO profile)"
	case ExpiredCredentials:
		return "the AWS credentials have expired: run `aws sso login` (SSO), or get a new session token, then run again"
	case RejectedCredentials:
		return "AWS refused the credentials (" + errorCode(e.Err) + "): check the access key with `aws configure`, or choose another AWS_PROFILE"
	case WrongAccount:
		return fmt.Sprintf("the AWS credentials are of account %s, but environment %s's profile pins account %s (accountID): set AWS_PROFILE to a profile of account %s",
			e.Account, e.Env, e.Want, e.Want)
	}
	return "AWS credentials: " + e.Err.Error()
}

func (e *CredentialsError) Unwrap() error { return e.Err }

// expiredCodes are the error codes AWS answers a request signed with expired
// credentials with; the SDK's retryer treats the same codes as expired
// (aws/retry: "ExpiredToken", "ExpiredTokenException", "RequestExpired").
var expiredCodes = []string{"ExpiredToken", "ExpiredTokenException", "RequestExpired"}

// rejectedCodes are AWS's answers to credentials that are not valid at all.
var rejectedCodes = []string{"InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidAccessKeyId"}

// classifyCredentials turns an error of an STS call into a
// *CredentialsError when it is about the credentials, else returns it.
func classifyCredentials(err error) error {
	if err == nil {
		return nil
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch code := apiErr.ErrorCode(); {
		case slices.Contains(expiredCodes, code):
			return &CredentialsError{Problem: ExpiredCredentials, Err: err}
		case slices.Contains(rejectedCodes, code):
			return &CredentialsError{Problem: RejectedCredentials, Err: err}
		}
		return err
	}
	// No answer from AWS: the SDK could not sign the request. Its credential
	// chain says so with "get credentials" (aws/signer middleware) and, for an
	// SSO profile whose login has run out, with an expired token.
	msg := err.Error()
	if !strings.Contains(msg, "get credentials") && !strings.Contains(msg, "failed to retrieve credentials") && !strings.Contains(msg, "failed to refresh cached credentials") {
		return err
	}
	if strings.Contains(msg, "expired") || strings.Contains(msg, "InvalidGrant") {
		return &CredentialsError{Problem: ExpiredCredentials, Err: err}
	}
	return &CredentialsError{Problem: NoCredentials, Err: err}
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return "no code"
}

// Identity is who the credentials are.
type Identity struct {
	Account, Arn string
}

// Identity asks STS who the caller is (GetCallerIdentity needs no
// permission), with credential problems said in one line.
func (c *Clients) Identity(ctx context.Context) (Identity, error) {
	out, err := c.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return Identity{}, classifyCredentials(err)
	}
	return Identity{Account: aws.ToString(out.Account), Arn: aws.ToString(out.Arn)}, nil
}

// CheckAccount is nil when want is empty (the profile pins no account) or
// equals the caller's account, else a WrongAccount *CredentialsError.
func CheckAccount(env, got, want string) error {
	if want == "" || got == want {
		return nil
	}
	return &CredentialsError{Problem: WrongAccount, Account: got, Want: want, Env: env}
}
