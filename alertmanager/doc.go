// Package alertmanager owns a workspace's alert manager: its alert manager
// definition, as AMP takes it, and the Alertmanager that runs it, built
// from github.com/prometheus/alertmanager's own packages as Cortex and
// Mimir embed one Alertmanager per tenant.
//
// It does not own the alerting rules that raise the alerts (package rules,
// whose Options.Notify the host wires to Instance.Send), the limits it
// enforces (package quota: MaxAlertManagerDefinitionBytes,
// MaxAlertManagerTemplates, MaxInhibitionRules, MaxRoutingTreeNodes),
// access control (package auth, whose route table gives each route its
// IAM action) nor the routing of requests to a workspace (the root
// package).
//
// Built: Alertmanagers, whose Component gives each workspace an Instance:
//   - AMP's alert manager definition operations (Create, Put, Describe,
//     Delete) in Go and, through ServeHTTP, on AMP's REST-JSON paths
//     /workspaces/{id}/alertmanager/definition, with AMP's statuses and
//     exceptions. The data is AMP's YAML: alertmanager_config, a string
//     that Alertmanager's config.Load parses, and template_files, each
//     parsed by Alertmanager's template package (every file is loaded,
//     named in templates or not). A definition is refused with a
//     ValidationException, and changes nothing, when its YAML is broken,
//     Alertmanager refuses it, a template does not parse, a receiver
//     cannot be built, it is over a limit, or a receiver has a type other
//     than sns_configs (AMP's only one) and webhook_configs (promspace's
//     addition), unless Options.AllowAllReceivers; an sns_config's api_url
//     is refused as AMP refuses it. repeat_interval is capped at AMP's 5
//     days. The definition is one JSON object in the workspace's bucket
//     (alertmanager/definition.json), whose upload is the change's
//     acknowledgement, and runs again when the workspace opens.
//   - One Alertmanager per workspace: provider/mem alerts, silences, the
//     notification log, dispatch (routing, grouping), inhibit, timeinterval
//     and the notify pipeline (retries, deduplication through the
//     notification log), rebuilt from each definition as Alertmanager's
//     reload rebuilds them. No cluster: a workspace's Alertmanager is one
//     replica. Silences and the notification log are snapshotted to the
//     workspace's directory and then its bucket (alertmanager/silences,
//     alertmanager/nflog, in Alertmanager's snapshot format) every
//     MaintenanceInterval and on Close, the silences also on every change
//     before it is answered. The workspace's opening reads the directory's
//     copy, or the bucket's when the directory has none (a node started on
//     an empty disk) or it does not load; a copy that does not load is
//     logged by name and skipped.
//   - A stored definition that does not decode is logged by name and kept
//     UPDATE_FAILED, with the reason, until a Put replaces it or a Delete
//     removes it: the workspace opens without an Alertmanager.
//   - Receivers through Alertmanager's own notifiers, SNS (notify/sns) and
//     webhook among them. Options.SNSEndpoint is the api_url of every
//     sns_config, so that tests and local setups publish to a loopback
//     server (package snstest is one), and Options.SNSCredentials sign
//     those that carry none.
//   - Alertmanager's v2 API (api/v2, as Mimir serves it) under
//     /workspaces/{id}/alertmanager/api/v2/: alerts, alerts/groups,
//     receivers, silences, silence/{id} and status, so that Alertmanager's
//     API client and amtool --alertmanager.url=<workspace>/alertmanager
//     work. A workspace without a definition has no Alertmanager: these
//     answer 404 ResourceNotFoundException, AMP's answer for a missing
//     definition, and alerts of its rules are counted and dropped.
//   - Instance.Send, the way the rules' alerts enter the Alertmanager,
//     converted as Prometheus' rules.SendAlerts does for its notifier.
//   - Forwarding: Options.ForwardURLs receive every workspace's alerts
//     as well, through one Prometheus notifier.Manager per workspace
//     (Alertmanager's v2 JSON, batching, queue and timeouts); resending is
//     the rules manager's ResendDelay. Alerts are forwarded as the rules
//     raise them, without a label naming the workspace.
//
// The metrics of each workspace's Alertmanager (Alertmanager's own,
// Prometheus' notifier's for forwarding) go to Options.Registerer with a
// "workspace" label, and to Instance.Gatherer without it.
//
// Not built: AMP's aggregation group size and active alerts quotas in the
// Alertmanager (the rules hold back alerts over MaxActiveAlerts; requests
// to the API are bounded by the 20 MB alert payload quota); Alertmanager's
// UI and its v1 API; a per-workspace forwarding configuration.
package alertmanager
