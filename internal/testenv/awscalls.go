package testenv

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
)

// AWSCalls counts the AWS API calls made through clients loaded with its
// Option, by "Service.Operation" (say "ElastiCache.DescribeReplicationGroups"):
// the counting wrapper of the tests that show a run reads each fact once.
// Retries of one call count once (the count is taken before the retry loop).
type AWSCalls struct {
	mu sync.Mutex
	n  map[string]int
}

// NewAWSCalls returns an empty count.
func NewAWSCalls() *AWSCalls { return &AWSCalls{n: map[string]int{}} }

// Option is the loading option that makes every client count its calls
// here (for cloud.New).
func (c *AWSCalls) Option() func(*awsconfig.LoadOptions) error {
	return awsconfig.WithAPIOptions([]func(*middleware.Stack) error{func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("bootstrap.CountCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.mu.Lock()
				c.n[awsmw.GetServiceID(ctx)+"."+middleware.GetOperationName(ctx)]++
				c.mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After) // after the service's metadata is set
	}})
}

// Get is the count of one "Service.Operation".
func (c *AWSCalls) Get(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[op]
}

// Total is the count of all calls.
func (c *AWSCalls) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := 0
	for _, v := range c.n {
		t += v
	}
	return t
}

// Reset empties the count.
func (c *AWSCalls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = map[string]int{}
}

// String lists the counts, one "Service.Operation n" a line, sorted.
func (c *AWSCalls) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	lines := make([]string, 0, len(c.n))
	for k, v := range c.n {
		lines = append(lines, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
