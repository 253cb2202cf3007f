// Package logging owns a workspace's vended logs, as AMP sends them to
// CloudWatch Logs: the logging configuration (rules and alert manager
// errors) and the query logging configuration (queries over a QSP
// threshold) of each workspace, and the records they vend.
//
// Built: Loggers, whose Component gives each workspace an *Instance:
//   - AMP's Create, Describe, Update and Delete of LoggingConfiguration
//     (/workspaces/{id}/logging) and QueryLoggingConfiguration
//     (/workspaces/{id}/logging/query), in Go and through ServeHTTP with
//     AMP's REST-JSON bodies, statuses and exceptions: logGroupArn checked
//     against AMP's pattern with AWS's ValidationException text, exactly
//     one query logging destination, ConflictException on a second
//     create, ResourceNotFoundException without one. Each configuration
//     is one JSON object in the workspace's bucket (logging/...), whose
//     upload is the change's acknowledgement, read again when the
//     workspace opens.
//   - The sinks: while a configuration is ACTIVE its records are appended
//     to one JSON-lines file per log group under Options.Dir (FileName;
//     the Service's is <DataDir>/logs), shared by the workspaces that name
//     the group, and logged to Options.Logger. A record is AMP's vended
//     record, {"workspaceId", "message": {"log", "level", ...},
//     "component"}, with the time and the log group (Record). A file that
//     cannot be opened leaves the configuration CREATION_FAILED or
//     UPDATE_FAILED with the reason.
//   - Instance.Handler, the slog.Handler through which another component
//     of the workspace vends its failures: the rules manager tees its
//     logger into it (rules.Options.VendedLog), so that a rule that fails
//     to evaluate is vended as AMP's ruler record, with the rule's name,
//     group and namespace. ByWorkspace does the same for a logger shared
//     by all workspaces whose records carry a "workspace" attribute: the
//     Service tees the alert manager's logger into it, so that a
//     notification its receiver refuses is vended as an alertmanager
//     record.
//   - Instance.ObserveQuery, query.Source.OnQueryRecord: a query whose
//     samples processed are over qspThreshold is vended with its
//     expression, samples processed, duration and time range.
//
// Not built: delivery to CloudWatch Logs itself, and the existence check
// of the log group AMP makes (a file is created instead). The queries of
// rule evaluations are not query-logged (AMP logs them too). Scrapers'
// logging configurations belong to the scrapers.
//
// The package does not own the rules, the alert manager or the query API
// whose records it writes, nor access control or the routing of requests
// to a workspace (the root package).
package logging
