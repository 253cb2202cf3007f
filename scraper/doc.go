// Package scraper owns AMP's managed scrapers (collectors), in process:
// CreateScraper, DescribeScraper, ListScrapers (with its status, sourceArn,
// destinationArn and alias filters), UpdateScraper, DeleteScraper, their
// logging configuration, GetDefaultScraperConfiguration and the tags of
// scraper ARNs, with AMP's ids (s-<uuid>), ARNs
// (arn:aws:aps:<region>:<account>:scraper/<id>), statuses and errors,
// served by Manager.Handler as the AWS SDK's amp client calls them.
//
// A scraper is an account-level resource. Its record (the request's fields
// as AMP records them, its status and statusReason, its tags and logging
// configuration) is a JSON object under scrapers/ in the service's bucket,
// stored before an operation is acknowledged; New reloads every record and
// restarts each scraper that is not CREATION_FAILED, finishing the
// deletions that were under way.
//
// Each running scraper is Prometheus' own discovery manager and scrape
// manager (packages discovery and scrape) given the scraper's configuration,
// which Prometheus' config.Load must accept: a configuration it refuses is
// a ValidationException at CreateScraper and UpdateScraper; one that the
// managers then cannot apply makes the scraper CREATION_FAILED or
// UPDATE_FAILED with the error as statusReason. Otherwise the scraper is
// CREATING (UPDATING) until both managers have the configuration, then
// ACTIVE. static_configs, file_sd_configs, dns_sd_configs, http_sd_configs
// and kubernetes_sd_configs are registered; Kubernetes discovery works
// where a cluster can be reached (in-cluster or with api_server and
// credentials) and otherwise logs its error while the other jobs run. The
// EKS or VPC source is recorded, not used: the jobs find their targets
// through the discovery their configuration names.
//
// Samples go to the destination workspace through Options.Appendable, which
// the Service sets to the workspace's ingest endpoint, so that they pass the
// same pipeline (HA dedupe, quotas) as remote write; the configuration's
// external_labels are added to every series that lacks them, as Prometheus'
// remote write does (without expanding environment variables, which
// config.Load would do). Each scrape resolves the workspace through the
// Registry and holds it only until its appender is committed, so a scraper
// never keeps a workspace from being deleted. A scraper whose destination
// was deleted stays ACTIVE and its scrapes fail, logged once, until it is
// updated to another destination or deleted.
//
// The package does not own the workspaces, the ingest pipeline or access
// control (the auth route table names each operation's IAM action). Not
// built: cloudWatchConfiguration destinations (refused), exporters (recorded
// only), sending the scrapers' logs to CloudWatch (the logging configuration
// is recorded and described; the scrapers log to the service's logger),
// and the AMPAgentlessScraper tag AMP adds to the destination workspace.
// Files a configuration names (credentials_file, ca_file, ...) are read
// on this host; scrape_failure_log_file is ignored.
package scraper
