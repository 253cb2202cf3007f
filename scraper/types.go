package scraper

import "time"

// Status is a scraper's status code, as AMP names it.
type Status string

// AMP's scraper statuses.
const (
	StatusCreating       Status = "CREATING"
	StatusActive         Status = "ACTIVE"
	StatusUpdating       Status = "UPDATING"
	StatusDeleting       Status = "DELETING"
	StatusCreationFailed Status = "CREATION_FAILED"
	StatusUpdateFailed   Status = "UPDATE_FAILED"
	StatusDeletionFailed Status = "DELETION_FAILED"
)

// ScrapeConfiguration is AMP's ScrapeConfiguration union: the Prometheus
// configuration YAML, base64 in JSON.
type ScrapeConfiguration struct {
	ConfigurationBlob []byte `json:"configurationBlob,omitempty"`
}

// Source is where a scraper collects from: an EKS cluster, or a VPC (for
// Amazon MSK). It is recorded as given; the scrape jobs find their targets
// through the service discovery their configuration names.
type Source struct {
	EKS *EKSConfiguration `json:"eksConfiguration,omitempty"`
	VPC *VPCConfiguration `json:"vpcConfiguration,omitempty"`
}

// EKSConfiguration is an EKS cluster source.
type EKSConfiguration struct {
	ClusterArn       string   `json:"clusterArn"`
	SecurityGroupIds []string `json:"securityGroupIds,omitempty"`
	SubnetIds        []string `json:"subnetIds"`
}

// VPCConfiguration is a VPC source.
type VPCConfiguration struct {
	SecurityGroupIds []string `json:"securityGroupIds"`
	SubnetIds        []string `json:"subnetIds"`
}

// Destination is where a scraper writes: an AMP workspace.
type Destination struct {
	AMP *AMPConfiguration `json:"ampConfiguration,omitempty"`
	// CloudWatch is part of AMP's model; promspace refuses it, having no
	// CloudWatch to write to.
	CloudWatch *CloudWatchConfiguration `json:"cloudWatchConfiguration,omitempty"`
}

// AMPConfiguration names the destination workspace.
type AMPConfiguration struct {
	WorkspaceArn string `json:"workspaceArn"`
}

// CloudWatchConfiguration names a CloudWatch dataset.
type CloudWatchConfiguration struct {
	DatasetArn string `json:"datasetArn,omitempty"`
}

// RoleConfiguration holds the roles of cross-account scraping.
type RoleConfiguration struct {
	SourceRoleArn string `json:"sourceRoleArn,omitempty"`
	TargetRoleArn string `json:"targetRoleArn,omitempty"`
}

// Exporter is AMP's ExporterConfiguration union, recorded as given.
type Exporter struct {
	Kafka      *KafkaExporter      `json:"kafkaConfiguration,omitempty"`
	OpenSearch *OpenSearchExporter `json:"openSearchConfiguration,omitempty"`
}

// KafkaExporter is an Amazon MSK exporter.
type KafkaExporter struct {
	ClusterArn          string `json:"clusterArn"`
	ConsumerGroupFilter string `json:"consumerGroupFilter,omitempty"`
	TopicFilter         string `json:"topicFilter,omitempty"`
}

// OpenSearchExporter is an OpenSearch Service exporter.
type OpenSearchExporter struct {
	DomainArn string `json:"domainArn"`
}

// LoggingConfiguration is a scraper's logging configuration.
type LoggingConfiguration struct {
	LogGroupArn string      `json:"logGroupArn"`
	Components  []Component `json:"scraperComponents,omitempty"`
	Status      Status      `json:"status"`
	ModifiedAt  time.Time   `json:"modifiedAt"`
}

// Component is AMP's ScraperComponent.
type Component struct {
	Type   string           `json:"type"`
	Config *ComponentConfig `json:"config,omitempty"`
}

// ComponentConfig holds a component's logging options.
type ComponentConfig struct {
	Options map[string]string `json:"options,omitempty"`
}

// Scraper is a scraper as the Manager keeps and stores it.
type Scraper struct {
	ID                  string              `json:"scraperId"`
	ARN                 string              `json:"arn"`
	Account             string              `json:"account"`
	Alias               string              `json:"alias,omitempty"`
	RoleArn             string              `json:"roleArn"`
	ScrapeConfiguration ScrapeConfiguration `json:"scrapeConfiguration"`
	Source              Source              `json:"source"`
	Destination         Destination         `json:"destination"`
	RoleConfiguration   *RoleConfiguration  `json:"roleConfiguration,omitempty"`
	Exporters           []Exporter          `json:"exporters,omitempty"`
	Tags                map[string]string   `json:"tags,omitempty"`
	Status              Status              `json:"status"`
	StatusReason        string              `json:"statusReason,omitempty"`
	CreatedAt           time.Time           `json:"createdAt"`
	LastModifiedAt      time.Time           `json:"lastModifiedAt"`
	// ClientToken is the CreateScraper client token, and CreateRequest
	// what that request carried, to tell its retry from another request.
	ClientToken   string                `json:"clientToken,omitempty"`
	CreateRequest string                `json:"createRequest,omitempty"`
	Logging       *LoggingConfiguration `json:"loggingConfiguration,omitempty"`
}

// clone returns a deep enough copy of s for a caller to read while the
// Manager changes s.
func (s *Scraper) clone() *Scraper {
	c := *s
	if s.Tags != nil {
		c.Tags = make(map[string]string, len(s.Tags))
		for k, v := range s.Tags {
			c.Tags[k] = v
		}
	}
	if s.Logging != nil {
		l := *s.Logging
		c.Logging = &l
	}
	return &c
}

// WorkspaceArn is the ARN of the destination workspace.
func (s *Scraper) WorkspaceArn() string {
	if s.Destination.AMP == nil {
		return ""
	}
	return s.Destination.AMP.WorkspaceArn
}

// SourceArn is the ARN ListScrapers' sourceArn filter matches: the EKS
// cluster's.
func (s *Scraper) SourceArn() string {
	if s.Source.EKS == nil {
		return ""
	}
	return s.Source.EKS.ClusterArn
}
