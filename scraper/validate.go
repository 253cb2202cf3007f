package scraper

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/promspace/promspace/workspace"
)

// AMP's constraints on scraper fields.
const (
	maxAliasLength       = 100
	maxClientTokenLength = 64
	maxTags              = 50
	maxTagKeyLength      = 128
	maxTagValueLength    = 256
	maxIDs               = 5
	maxBlobBytes         = 1 << 20
	// DefaultMaxResults and MaxMaxResults bound a page of ListScrapers.
	DefaultMaxResults = 100
	MaxMaxResults     = 1000
	maxFilterKeys     = 4
	maxFilterValues   = 20
)

var (
	nameRE          = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)
	clientTokenRE   = regexp.MustCompile(`^[!-~]+$`)
	tagRE           = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
	clusterArnRE    = regexp.MustCompile(`^arn:aws[-a-z]*:eks:[-a-z0-9]+:[0-9]{12}:cluster/.+$`)
	subnetRE        = regexp.MustCompile(`^subnet-[0-9a-z]+$`)
	securityGroupRE = regexp.MustCompile(`^sg-[0-9a-z]+$`)
	workspaceArnRE  = regexp.MustCompile(`^arn:aws[-a-z]*:aps:([-a-z0-9]+):([0-9]{12}):workspace/(.+)$`)
	roleArnRE       = regexp.MustCompile(`^arn:aws[-a-z]*:iam::[0-9]{12}:role/.+$`)
	kafkaArnRE      = regexp.MustCompile(`^arn:aws[-a-z]*:kafka:[-a-z0-9]+:[0-9]{12}:cluster/.+$`)
	domainArnRE     = regexp.MustCompile(`^arn:aws[-a-z]*:es:[-a-z0-9]+:[0-9]{12}:domain/.+$`)
	logGroupArnRE   = regexp.MustCompile(`^arn:aws[-a-z]*:logs:[-a-z0-9]+:[0-9]{12}:log-group:[A-Za-z0-9.\-_#/]{1,512}:\*$`)
	scraperArnRE    = regexp.MustCompile(`^arn:aws[-a-z]*:aps:([-a-z0-9]+):([0-9]{12}):scraper/(.+)$`)
)

// fieldErrors collects the fields of one request that failed validation.
type fieldErrors []workspace.FieldError

func (fe *fieldErrors) add(name, format string, args ...any) {
	*fe = append(*fe, workspace.FieldError{Name: name, Message: fmt.Sprintf(format, args...)})
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &workspace.ValidationError{Reason: workspace.ReasonFieldValidationFailed, Fields: fe}
}

func validateAlias(fe *fieldErrors, alias string) {
	if alias == "" {
		return
	}
	if utf8.RuneCountInString(alias) > maxAliasLength || !nameRE.MatchString(alias) {
		fe.add("alias", "must be 1 to %d characters matching %s", maxAliasLength, nameRE)
	}
}

func validateClientToken(fe *fieldErrors, token string) {
	if token != "" && (len(token) > maxClientTokenLength || !clientTokenRE.MatchString(token)) {
		fe.add("clientToken", "must be 1 to %d printable ASCII characters without spaces", maxClientTokenLength)
	}
}

func validateTagKey(fe *fieldErrors, field, k string) {
	switch n := utf8.RuneCountInString(k); {
	case n == 0 || n > maxTagKeyLength:
		fe.add(field, "tag key %q must be 1 to %d characters long", k, maxTagKeyLength)
	case !tagRE.MatchString(k):
		fe.add(field, "tag key %q must match %s", k, tagRE)
	case strings.HasPrefix(strings.ToLower(k), "aws:"):
		fe.add(field, "tag key %q must not start with aws:", k)
	}
}

func validateTags(fe *fieldErrors, tags map[string]string) {
	if len(tags) > maxTags {
		fe.add("tags", "must hold at most %d tags", maxTags)
	}
	for k, v := range tags {
		validateTagKey(fe, "tags", k)
		if utf8.RuneCountInString(v) > maxTagValueLength || !tagRE.MatchString(v) {
			fe.add("tags", "value of tag %q must be at most %d characters matching %s", k, maxTagValueLength, tagRE)
		}
	}
}

func validateIDs(fe *fieldErrors, field string, ids []string, re *regexp.Regexp, required bool) {
	if len(ids) == 0 && !required {
		return
	}
	if len(ids) < 1 || len(ids) > maxIDs {
		fe.add(field, "must hold 1 to %d ids", maxIDs)
	}
	for _, id := range ids {
		if !re.MatchString(id) {
			fe.add(field, "%q must match %s", id, re)
		}
	}
}

func validateSource(fe *fieldErrors, s *Source) {
	switch {
	case s == nil || (s.EKS == nil && s.VPC == nil):
		fe.add("source", "is required: eksConfiguration or vpcConfiguration")
	case s.EKS != nil && s.VPC != nil:
		fe.add("source", "must hold exactly one of eksConfiguration and vpcConfiguration")
	case s.EKS != nil:
		if !clusterArnRE.MatchString(s.EKS.ClusterArn) {
			fe.add("source.eksConfiguration.clusterArn", "must be the ARN of an EKS cluster, arn:aws:eks:<region>:<account>:cluster/<name>")
		}
		validateIDs(fe, "source.eksConfiguration.subnetIds", s.EKS.SubnetIds, subnetRE, true)
		validateIDs(fe, "source.eksConfiguration.securityGroupIds", s.EKS.SecurityGroupIds, securityGroupRE, false)
	default:
		validateIDs(fe, "source.vpcConfiguration.subnetIds", s.VPC.SubnetIds, subnetRE, true)
		validateIDs(fe, "source.vpcConfiguration.securityGroupIds", s.VPC.SecurityGroupIds, securityGroupRE, true)
	}
}

// validateDestination checks an AMP destination and returns the region,
// account and id of its workspace.
func validateDestination(fe *fieldErrors, d *Destination) (region, account, id string) {
	switch {
	case d == nil || (d.AMP == nil && d.CloudWatch == nil):
		fe.add("destination", "is required: ampConfiguration")
	case d.AMP != nil && d.CloudWatch != nil:
		fe.add("destination", "must hold exactly one of ampConfiguration and cloudWatchConfiguration")
	case d.CloudWatch != nil:
		fe.add("destination.cloudWatchConfiguration", "is not supported: a scraper writes to an AMP workspace")
	default:
		m := workspaceArnRE.FindStringSubmatch(d.AMP.WorkspaceArn)
		if m == nil {
			fe.add("destination.ampConfiguration.workspaceArn", "must be the ARN of a workspace, arn:aws:aps:<region>:<account>:workspace/<id>")
			return "", "", ""
		}
		return m[1], m[2], m[3]
	}
	return "", "", ""
}

func validateRoleConfiguration(fe *fieldErrors, rc *RoleConfiguration) {
	if rc == nil {
		return
	}
	if rc.SourceRoleArn != "" && !roleArnRE.MatchString(rc.SourceRoleArn) {
		fe.add("roleConfiguration.sourceRoleArn", "must be the ARN of an IAM role")
	}
	if rc.TargetRoleArn != "" && !roleArnRE.MatchString(rc.TargetRoleArn) {
		fe.add("roleConfiguration.targetRoleArn", "must be the ARN of an IAM role")
	}
}

func validateExporters(fe *fieldErrors, exs []Exporter) {
	if len(exs) > 1 {
		fe.add("exporters", "must hold at most one exporter")
	}
	for _, e := range exs {
		switch {
		case (e.Kafka == nil) == (e.OpenSearch == nil):
			fe.add("exporters", "each must hold exactly one of kafkaConfiguration and openSearchConfiguration")
		case e.Kafka != nil && !kafkaArnRE.MatchString(e.Kafka.ClusterArn):
			fe.add("exporters.kafkaConfiguration.clusterArn", "must be the ARN of an Amazon MSK cluster")
		case e.OpenSearch != nil && !domainArnRE.MatchString(e.OpenSearch.DomainArn):
			fe.add("exporters.openSearchConfiguration.domainArn", "must be the ARN of an OpenSearch Service domain")
		}
	}
}

// validateScrapeConfiguration checks the blob's size and that Prometheus
// loads it, and returns the loaded configuration.
func validateScrapeConfiguration(fe *fieldErrors, sc *ScrapeConfiguration) *scrapeConfig {
	if sc == nil || sc.ConfigurationBlob == nil {
		fe.add("scrapeConfiguration", "is required: configurationBlob")
		return nil
	}
	if len(sc.ConfigurationBlob) > maxBlobBytes {
		fe.add("scrapeConfiguration.configurationBlob", "must be at most %d bytes", maxBlobBytes)
		return nil
	}
	cfg, err := loadConfiguration(sc.ConfigurationBlob)
	if err != nil {
		fe.add("scrapeConfiguration.configurationBlob", "invalid scrape configuration: %v", err)
		return nil
	}
	return cfg
}

func validScraperID(id string) bool { return len(id) <= 64 && nameRE.MatchString(id) }
