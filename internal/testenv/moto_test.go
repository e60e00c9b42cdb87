package testenv

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// These tests start the real launcher and check, through the AWS wire
// protocols, both that it serves AWS at all and that its patches make moto
// answer as AWS does where bootstrap depends on it.

func TestMotoAnswersSTS(t *testing.T) {
	m := Moto(t)

	var out struct {
		Account string `xml:"GetCallerIdentityResult>Account"`
	}
	m.query(t, "sts", url.Values{"Action": {"GetCallerIdentity"}, "Version": {"2011-06-15"}}, &out)
	if out.Account != MotoAccountID {
		t.Fatalf("GetCallerIdentity account = %q, want %q", out.Account, MotoAccountID)
	}

	// A real tool, given Environ(), talks to this server and nothing else.
	aws, err := exec.LookPath("aws")
	if err != nil {
		t.Logf("awscli not on PATH, not checked through it: %v", err)
		return
	}
	// A developer's own profile (here one that does not exist) must not win.
	t.Setenv("AWS_PROFILE", "somebody-else")
	cmd := exec.Command(aws, "sts", "get-caller-identity", "--query", "Account", "--output", "text")
	cmd.Env = m.Environ()
	got, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", err, got)
	}
	if strings.TrimSpace(string(got)) != MotoAccountID {
		t.Fatalf("aws sts get-caller-identity = %q, want %q", got, MotoAccountID)
	}
}

func TestMotoEKSReportsVPCAndClusterSecurityGroup(t *testing.T) {
	t.Parallel()
	m := Moto(t)
	vpc, subnets := m.createVPC(t, "us-east-1a", "us-east-1b")

	var created struct {
		Cluster struct {
			ResourcesVpcConfig struct {
				VpcID                  string `json:"vpcId"`
				ClusterSecurityGroupID string `json:"clusterSecurityGroupId"`
			} `json:"resourcesVpcConfig"`
		} `json:"cluster"`
	}
	m.restJSON(t, "eks", "POST", "/clusters", map[string]any{
		"name":               "sovd-test-cluster",
		"roleArn":            "arn:aws:iam::" + MotoAccountID + ":role/eks-service",
		"resourcesVpcConfig": map[string]any{"subnetIds": subnets},
	}, nil)
	m.restJSON(t, "eks", "GET", "/clusters/sovd-test-cluster", nil, &created)
	cfg := created.Cluster.ResourcesVpcConfig
	if cfg.VpcID != vpc {
		t.Errorf("DescribeCluster vpcId = %q, want the subnets' VPC %q", cfg.VpcID, vpc)
	}

	var groups struct {
		Items []struct {
			GroupName string `xml:"groupName"`
			VpcID     string `xml:"vpcId"`
			Tags      []struct {
				Key   string `xml:"key"`
				Value string `xml:"value"`
			} `xml:"tagSet>item"`
		} `xml:"securityGroupInfo>item"`
	}
	m.query(t, "ec2", url.Values{
		"Action": {"DescribeSecurityGroups"}, "Version": {"2016-11-15"},
		"GroupId.1": {cfg.ClusterSecurityGroupID},
	}, &groups)
	if len(groups.Items) != 1 {
		t.Fatalf("clusterSecurityGroupId %q: %d security groups in EC2, want 1", cfg.ClusterSecurityGroupID, len(groups.Items))
	}
	g := groups.Items[0]
	if !strings.HasPrefix(g.GroupName, "eks-cluster-sg-sovd-test-cluster-") || g.VpcID != vpc {
		t.Errorf("cluster security group = %s in %s, want eks-cluster-sg-sovd-test-cluster-* in %s", g.GroupName, g.VpcID, vpc)
	}
	tags := map[string]string{}
	for _, tag := range g.Tags {
		tags[tag.Key] = tag.Value
	}
	if tags["kubernetes.io/cluster/sovd-test-cluster"] != "owned" || tags["aws:eks:cluster-name"] != "sovd-test-cluster" {
		t.Errorf("cluster security group tags = %v, want the cluster's ownership tags", tags)
	}

	// AWS refuses subnets that do not exist.
	status, body := m.restJSONStatus(t, "eks", "POST", "/clusters", map[string]any{
		"name":               "no-subnets",
		"roleArn":            "arn:aws:iam::" + MotoAccountID + ":role/eks-service",
		"resourcesVpcConfig": map[string]any{"subnetIds": []string{"subnet-0123456789abcdef0", subnets[0]}},
	})
	if status != http.StatusBadRequest || !strings.Contains(body, "subnet-0123456789abcdef0' does not exist") {
		t.Errorf("CreateCluster with a missing subnet = %d %s, want 400: the subnet does not exist", status, body)
	}
}

func TestMotoElastiCacheReplicationGroupLikeAWS(t *testing.T) {
	t.Parallel()
	m := Moto(t)
	_, subnets := m.createVPC(t, "us-east-1a", "us-east-1b", "us-east-1c")

	form := url.Values{"Action": {"CreateCacheSubnetGroup"}, "Version": {"2015-02-02"},
		"CacheSubnetGroupName": {"rg-test"}, "CacheSubnetGroupDescription": {"test"}}
	for i, s := range subnets {
		form.Set(fmt.Sprintf("SubnetIds.SubnetIdentifier.%d", i+1), s)
	}
	m.query(t, "elasticache", form, nil)
	m.query(t, "elasticache", url.Values{"Action": {"CreateReplicationGroup"}, "Version": {"2015-02-02"},
		"ReplicationGroupId": {"rg-test"}, "ReplicationGroupDescription": {"test"},
		"Engine": {"redis"}, "EngineVersion": {"7.1"}, "CacheNodeType": {"cache.t3.medium"},
		"NumCacheClusters": {"2"}, "CacheSubnetGroupName": {"rg-test"},
		"AutomaticFailoverEnabled": {"true"}, "MultiAZEnabled": {"true"},
		"AtRestEncryptionEnabled": {"true"}, "TransitEncryptionEnabled": {"true"},
	}, nil)

	var clusters struct {
		Items []struct {
			ID                      string `xml:"CacheClusterId"`
			ReplicationGroupID      string `xml:"ReplicationGroupId"`
			AtRestEncryptionEnabled bool   `xml:"AtRestEncryptionEnabled"`
			TransitEncryptionMode   string `xml:"TransitEncryptionMode"`
			AZ                      string `xml:"PreferredAvailabilityZone"`
		} `xml:"DescribeCacheClustersResult>CacheClusters>CacheCluster"`
	}
	m.query(t, "elasticache", url.Values{"Action": {"DescribeCacheClusters"}, "Version": {"2015-02-02"},
		"ShowCacheNodeInfo": {"true"}}, &clusters)
	var ids, azs []string
	for _, c := range clusters.Items {
		ids = append(ids, c.ID)
		azs = append(azs, c.AZ)
		if c.ReplicationGroupID != "rg-test" || !c.AtRestEncryptionEnabled || c.TransitEncryptionMode != "required" {
			t.Errorf("member %s: group %q, at rest %v, transit mode %q; want rg-test, true, required",
				c.ID, c.ReplicationGroupID, c.AtRestEncryptionEnabled, c.TransitEncryptionMode)
		}
	}
	if strings.Join(ids, ",") != "rg-test-001,rg-test-002" || azs[0] == azs[1] {
		t.Errorf("member clusters %v in %v, want rg-test-001,rg-test-002 in two AZs", ids, azs)
	}

	// bootstrap sets the AUTH token after creation, outside Terraform.
	var modified struct {
		AuthTokenEnabled bool `xml:"ModifyReplicationGroupResult>ReplicationGroup>AuthTokenEnabled"`
	}
	m.query(t, "elasticache", url.Values{"Action": {"ModifyReplicationGroup"}, "Version": {"2015-02-02"},
		"ReplicationGroupId": {"rg-test"}, "AuthToken": {strings.Repeat("x", 32)},
		"AuthTokenUpdateStrategy": {"ROTATE"}, "ApplyImmediately": {"true"}}, &modified)
	if !modified.AuthTokenEnabled {
		t.Error("ModifyReplicationGroup with an AUTH token: AuthTokenEnabled = false")
	}

	// Deleted groups and their members go away, as the provider's destroy waits for.
	m.query(t, "elasticache", url.Values{"Action": {"DeleteReplicationGroup"}, "Version": {"2015-02-02"},
		"ReplicationGroupId": {"rg-test"}}, nil)
	status, body := m.queryStatus(t, "elasticache", url.Values{"Action": {"DescribeReplicationGroups"},
		"Version": {"2015-02-02"}, "ReplicationGroupId": {"rg-test"}})
	if status == http.StatusOK || !strings.Contains(body, "ReplicationGroupNotFound") {
		t.Errorf("DescribeReplicationGroups after delete = %d %s, want ReplicationGroupNotFoundFault", status, body)
	}
	m.query(t, "elasticache", url.Values{"Action": {"DeleteCacheSubnetGroup"}, "Version": {"2015-02-02"},
		"CacheSubnetGroupName": {"rg-test"}}, nil)
}

// createVPC makes a VPC with one subnet in each AZ, as eksctl would.
func (m *MotoServer) createVPC(t *testing.T, azs ...string) (vpc string, subnets []string) {
	t.Helper()
	var v struct {
		ID string `xml:"vpc>vpcId"`
	}
	m.query(t, "ec2", url.Values{"Action": {"CreateVpc"}, "Version": {"2016-11-15"}, "CidrBlock": {"10.0.0.0/16"}}, &v)
	for i, az := range azs {
		var s struct {
			ID string `xml:"subnet>subnetId"`
		}
		m.query(t, "ec2", url.Values{"Action": {"CreateSubnet"}, "Version": {"2016-11-15"}, "VpcId": {v.ID},
			"AvailabilityZone": {az}, "CidrBlock": {fmt.Sprintf("10.0.%d.0/24", i)}}, &s)
		subnets = append(subnets, s.ID)
	}
	return v.ID, subnets
}

// query calls an AWS query-protocol API (EC2, STS, ElastiCache, ...) and
// decodes the XML answer into out (when not nil). moto needs no valid
// signature: the Authorization header only names the service and region.
func (m *MotoServer) query(t *testing.T, service string, form url.Values, out any) {
	t.Helper()
	status, body := m.queryStatus(t, service, form)
	if status != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d\n%s", service, form.Get("Action"), status, body)
	}
	if out != nil {
		if err := xml.Unmarshal([]byte(body), out); err != nil {
			t.Fatalf("%s %s: decoding %v\n%s", service, form.Get("Action"), err, body)
		}
	}
}

func (m *MotoServer) queryStatus(t *testing.T, service string, form url.Values) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", m.Endpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return m.do(t, service, req)
}

// restJSON calls a REST-JSON API (EKS) and decodes the answer into out.
func (m *MotoServer) restJSON(t *testing.T, service, method, path string, in, out any) {
	t.Helper()
	status, body := m.restJSONStatus(t, service, method, path, in)
	if status != http.StatusOK {
		t.Fatalf("%s %s %s: HTTP %d\n%s", service, method, path, status, body)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(body), out); err != nil {
			t.Fatalf("%s %s %s: decoding %v\n%s", service, method, path, err, body)
		}
	}
}

func (m *MotoServer) restJSONStatus(t *testing.T, service, method, path string, in any) (int, string) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, m.Endpoint+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return m.do(t, service, req)
}

func (m *MotoServer) do(t *testing.T, service string, req *http.Request) (int, string) {
	t.Helper()
	req.Header.Set("Authorization", fmt.Sprintf(
		"AWS4-HMAC-SHA256 Credential=testing/%s/%s/%s/aws4_request, SignedHeaders=host, Signature=0",
		time.Now().UTC().Format("20060102"), MotoRegion, service))
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s: %v", service, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s: %v", service, err)
	}
	return resp.StatusCode, string(b)
}

// TestMotoStartSlots: with every start slot taken, a further start waits
// until one is released.
// (In a directory of its own: the machine-wide slots are in use by the
// moto servers other tests start meanwhile.)
func TestMotoStartSlots(t *testing.T) {
	t.Parallel()
	dir, n := t.TempDir(), 3
	var releases []func()
	for i := 0; i < n; i++ {
		releases = append(releases, slotIn(t, dir, n))
	}
	got := make(chan func(), 1)
	go func() { got <- slotIn(t, dir, n) }()
	select {
	case <-got:
		t.Fatal("a start slot was given while all were taken")
	case <-time.After(300 * time.Millisecond):
	}
	releases[0]()
	select {
	case r := <-got:
		r()
	case <-time.After(10 * time.Second):
		t.Fatal("no start slot after one was released")
	}
	for _, r := range releases[1:] {
		r()
	}
}
