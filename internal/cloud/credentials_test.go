package cloud

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestClassifyCredentials(t *testing.T) {
	t.Parallel()
	// The chains below are the SDK's own wording (aws/signer and the
	// credential cache), as printed by `bootstrap status` before this change.
	noCreds := errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found, operation error ec2imds: GetMetadata, access disabled to EC2 IMDS via client option")
	ssoExpired := errors.New("operation error STS: GetCallerIdentity, get identity: get credentials: failed to refresh cached credentials, refresh cached SSO token failed, unable to refresh SSO token, operation error SSO OIDC: CreateToken, InvalidGrantException")
	api := func(code string) error {
		return fmt.Errorf("operation error STS: GetCallerIdentity, %w", &smithy.GenericAPIError{Code: code, Message: "m"})
	}
	cases := []struct {
		err  error
		want CredentialsProblem
	}{
		{noCreds, NoCredentials},
		{ssoExpired, ExpiredCredentials},
		{api("ExpiredToken"), ExpiredCredentials},
		{api("RequestExpired"), ExpiredCredentials},
		{api("InvalidClientTokenId"), RejectedCredentials},
		{api("SignatureDoesNotMatch"), RejectedCredentials},
		{api("Throttling"), 0},
		{errors.New("dial tcp: connection refused"), 0},
	}
	for _, c := range cases {
		got := classifyCredentials(c.err)
		var ce *CredentialsError
		switch {
		case c.want == 0 && errors.As(got, &ce):
			t.Errorf("%v: classified as credentials problem %d", c.err, ce.Problem)
		case c.want != 0 && (!errors.As(got, &ce) || ce.Problem != c.want):
			t.Errorf("%v: got %v, want problem %d", c.err, got, c.want)
		case c.want != 0 && (strings.Contains(got.Error(), "operation error") || strings.Contains(got.Error(), "\n")):
			t.Errorf("%v: not one line of ours: %q", c.err, got.Error())
		}
	}
	if err := CheckAccount("prod", "123456789012", "111111111111"); err == nil || !strings.Contains(err.Error(), "pins account 111111111111") {
		t.Errorf("wrong account not refused: %v", err)
	}
	if CheckAccount("prod", "123456789012", "") != nil || CheckAccount("prod", "123456789012", "123456789012") != nil {
		t.Error("an unpinned or matching account was refused")
	}
}
