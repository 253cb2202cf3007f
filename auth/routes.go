package auth

import (
	"cmp"
	"net/url"
	"strings"
)

// Operation is an AMP API operation a request was matched to, with the
// path parameters that name its resource.
type Operation struct {
	// Name is AMP's operation name, e.g. "DescribeWorkspace", "QueryMetrics".
	Name string
	// Action is the IAM action it needs, e.g. "aps:DescribeWorkspace".
	Action string
	// DataPlane is true for the Prometheus-compatible API under
	// /workspaces/{id}/api/v1 and /workspaces/{id}/alertmanager/api/v2.
	DataPlane bool

	// Path parameters; empty when the route has none of that name.
	WorkspaceID         string
	RuleGroupsNamespace string
	AnomalyDetectorID   string
	ScraperID           string
	// ResourceARN is the ARN in the path of the tag operations.
	ResourceARN string
	// Account is the account whose resource the Middleware authorized the
	// request on (OperationFrom): the workspace's owner for another
	// account's workspace shared with the caller by its resource policy,
	// else the caller's own. Handlers look the workspace up in it.
	Account string

	resource resourceKind
}

type resourceKind int

const (
	resAny resourceKind = iota
	resWorkspace
	resAllWorkspaces
	resRuleGroupsNamespace
	resAnomalyDetector
	resScraper
	resPathARN
)

// Resource returns the ARN the operation is authorized on, for workspaces
// (and scrapers) of account in region: the workspace ARN
// arn:aws:aps:<region>:<account>:workspace/<id>, the rule groups namespace
// ARN arn:aws:aps:<region>:<account>:rulegroupsnamespace/<id>/<name>, the
// anomaly detector ARN, the scraper ARN, arn:aws:aps:<region>:<account>:workspace/*
// for ListWorkspaces, the ARN in the path for the tag operations, or "*"
// (CreateWorkspace, CreateScraper, ListScrapers, GetDefaultScraperConfiguration).
func (o Operation) Resource(region, account string) string {
	prefix := "arn:aws:aps:" + region + ":" + account + ":"
	switch o.resource {
	case resWorkspace:
		return prefix + "workspace/" + o.WorkspaceID
	case resAllWorkspaces:
		return prefix + "workspace/*"
	case resRuleGroupsNamespace:
		return prefix + "rulegroupsnamespace/" + o.WorkspaceID + "/" + o.RuleGroupsNamespace
	case resAnomalyDetector:
		return prefix + "anomalydetector/" + o.WorkspaceID + "/" + o.AnomalyDetectorID
	case resScraper:
		return prefix + "scraper/" + o.ScraperID
	case resPathARN:
		return o.ResourceARN
	default:
		return "*"
	}
}

// RouteInfo describes one entry of the route table.
type RouteInfo struct {
	Method string
	// Pattern is the path with {parameters}; {name...} takes the rest of
	// the path, slashes included.
	Pattern   string
	Operation string
	Action    string
	DataPlane bool
	// Extension is true for promspace's own operations, which AMP does
	// not have.
	Extension bool
}

type route struct {
	RouteInfo
	resource resourceKind
	segments []string
	greedy   int // index of the {name...} segment, or -1
}

// The route table: every control-plane operation of AMP's API (amp
// 2020-08-01, all 44) and every data-plane operation AMP documents, with the
// IAM action each needs. query_exemplars is not in AMP's list; promspace
// serves it and authorizes it as aps:QueryMetrics, since it reads samples.
var routeTable = buildRoutes([]struct {
	method, pattern, op string
	res                 resourceKind
}{
	// Workspaces.
	{"POST", "/workspaces", "CreateWorkspace", resAny},
	{"GET", "/workspaces", "ListWorkspaces", resAllWorkspaces},
	{"GET", "/workspaces/{workspaceId}", "DescribeWorkspace", resWorkspace},
	{"DELETE", "/workspaces/{workspaceId}", "DeleteWorkspace", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/alias", "UpdateWorkspaceAlias", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/configuration", "DescribeWorkspaceConfiguration", resWorkspace},
	{"PATCH", "/workspaces/{workspaceId}/configuration", "UpdateWorkspaceConfiguration", resWorkspace},
	// Rule groups namespaces.
	{"POST", "/workspaces/{workspaceId}/rulegroupsnamespaces", "CreateRuleGroupsNamespace", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/rulegroupsnamespaces", "ListRuleGroupsNamespaces", resWorkspace},
	{"PUT", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "PutRuleGroupsNamespace", resRuleGroupsNamespace},
	{"GET", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "DescribeRuleGroupsNamespace", resRuleGroupsNamespace},
	{"DELETE", "/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", "DeleteRuleGroupsNamespace", resRuleGroupsNamespace},
	// Alert manager definition.
	{"POST", "/workspaces/{workspaceId}/alertmanager/definition", "CreateAlertManagerDefinition", resWorkspace},
	{"PUT", "/workspaces/{workspaceId}/alertmanager/definition", "PutAlertManagerDefinition", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/alertmanager/definition", "DescribeAlertManagerDefinition", resWorkspace},
	{"DELETE", "/workspaces/{workspaceId}/alertmanager/definition", "DeleteAlertManagerDefinition", resWorkspace},
	// Logging.
	{"POST", "/workspaces/{workspaceId}/logging", "CreateLoggingConfiguration", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/logging", "DescribeLoggingConfiguration", resWorkspace},
	{"PUT", "/workspaces/{workspaceId}/logging", "UpdateLoggingConfiguration", resWorkspace},
	{"DELETE", "/workspaces/{workspaceId}/logging", "DeleteLoggingConfiguration", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/logging/query", "CreateQueryLoggingConfiguration", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/logging/query", "DescribeQueryLoggingConfiguration", resWorkspace},
	{"PUT", "/workspaces/{workspaceId}/logging/query", "UpdateQueryLoggingConfiguration", resWorkspace},
	{"DELETE", "/workspaces/{workspaceId}/logging/query", "DeleteQueryLoggingConfiguration", resWorkspace},
	// Resource policy.
	{"PUT", "/workspaces/{workspaceId}/policy", "PutResourcePolicy", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/policy", "DescribeResourcePolicy", resWorkspace},
	{"DELETE", "/workspaces/{workspaceId}/policy", "DeleteResourcePolicy", resWorkspace},
	// Anomaly detectors.
	{"POST", "/workspaces/{workspaceId}/anomalydetectors", "CreateAnomalyDetector", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/anomalydetectors", "ListAnomalyDetectors", resWorkspace},
	{"PUT", "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}", "PutAnomalyDetector", resAnomalyDetector},
	{"GET", "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}", "DescribeAnomalyDetector", resAnomalyDetector},
	{"DELETE", "/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}", "DeleteAnomalyDetector", resAnomalyDetector},
	// Scrapers.
	{"POST", "/scrapers", "CreateScraper", resAny},
	{"GET", "/scrapers", "ListScrapers", resAny},
	{"GET", "/scrapers/{scraperId}", "DescribeScraper", resScraper},
	{"PUT", "/scrapers/{scraperId}", "UpdateScraper", resScraper},
	{"DELETE", "/scrapers/{scraperId}", "DeleteScraper", resScraper},
	{"GET", "/scrapers/{scraperId}/logging-configuration", "DescribeScraperLoggingConfiguration", resScraper},
	{"PUT", "/scrapers/{scraperId}/logging-configuration", "UpdateScraperLoggingConfiguration", resScraper},
	{"DELETE", "/scrapers/{scraperId}/logging-configuration", "DeleteScraperLoggingConfiguration", resScraper},
	{"GET", "/scraperconfiguration", "GetDefaultScraperConfiguration", resAny},
	// Tags.
	{"POST", "/tags/{resourceArn...}", "TagResource", resPathARN},
	{"DELETE", "/tags/{resourceArn...}", "UntagResource", resPathARN},
	{"GET", "/tags/{resourceArn...}", "ListTagsForResource", resPathARN},

	// Data plane: the Prometheus HTTP API.
	{"POST", "/workspaces/{workspaceId}/api/v1/remote_write", "RemoteWrite", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/query", "QueryMetrics", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/api/v1/query", "QueryMetrics", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/query_range", "QueryMetrics", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/api/v1/query_range", "QueryMetrics", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/query_exemplars", "QueryMetrics", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/api/v1/query_exemplars", "QueryMetrics", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/labels", "GetLabels", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/api/v1/labels", "GetLabels", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/label/{labelName...}/values", "GetLabels", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/series", "GetSeries", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/api/v1/series", "GetSeries", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/metadata", "GetMetricMetadata", resWorkspace},
	// Not in AMP's list, but Prometheus' API has them and Grafana and
	// promtool call them: they read nothing a query could not, so they need
	// the query action.
	{"GET", "/workspaces/{workspaceId}/api/v1/format_query", "QueryMetrics", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/api/v1/format_query", "QueryMetrics", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/parse_query", "QueryMetrics", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/api/v1/parse_query", "QueryMetrics", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/status/buildinfo", "QueryMetrics", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/rules", "ListRules", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/api/v1/alerts", "ListAlerts", resWorkspace},
	// Data plane: the Alertmanager API v2.
	{"POST", "/workspaces/{workspaceId}/alertmanager/api/v2/alerts", "CreateAlertManagerAlerts", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/alertmanager/api/v2/alerts", "ListAlertManagerAlerts", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/alertmanager/api/v2/alerts/groups", "ListAlertManagerAlertGroups", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/alertmanager/api/v2/receivers", "ListAlertManagerReceivers", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/alertmanager/api/v2/silences", "ListAlertManagerSilences", resWorkspace},
	{"POST", "/workspaces/{workspaceId}/alertmanager/api/v2/silences", "PutAlertManagerSilences", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/alertmanager/api/v2/silence/{silenceId}", "GetAlertManagerSilence", resWorkspace},
	{"DELETE", "/workspaces/{workspaceId}/alertmanager/api/v2/silence/{silenceId}", "DeleteAlertManagerSilence", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/alertmanager/api/v2/status", "GetAlertManagerStatus", resWorkspace},

	// promspace's extensions: views of a workspace that AMP does not have,
	// authorized as describing it (see extensionActions).
	{"GET", "/workspaces/{workspaceId}/limits", "DescribeWorkspaceLimits", resWorkspace},
	{"GET", "/workspaces/{workspaceId}/ha-tracker", "DescribeHATracker", resWorkspace},
})

// extensionActions are the IAM actions of the operations AMP does not have:
// an existing action whose grant they follow, so that policies written for
// AMP cover them.
var extensionActions = map[string]string{
	"DescribeWorkspaceLimits": "aps:DescribeWorkspace",
	"DescribeHATracker":       "aps:DescribeWorkspace",
}

func buildRoutes(specs []struct {
	method, pattern, op string
	res                 resourceKind
}) map[string][]route {
	t := map[string][]route{}
	for _, s := range specs {
		r := route{
			RouteInfo: RouteInfo{
				Method:    s.method,
				Pattern:   s.pattern,
				Operation: s.op,
				Action:    cmp.Or(extensionActions[s.op], "aps:"+s.op),
				DataPlane: isDataPlanePath(s.pattern),
				Extension: extensionActions[s.op] != "",
			},
			resource: s.res,
			segments: strings.Split(s.pattern[1:], "/"),
			greedy:   -1,
		}
		for i, seg := range r.segments {
			if strings.HasSuffix(seg, "...}") {
				r.greedy = i
			}
		}
		t[s.method] = append(t[s.method], r)
	}
	return t
}

// Routes returns the route table, for documentation and for checking that
// a router serves exactly these routes.
func Routes() []RouteInfo {
	var out []RouteInfo
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
		for _, r := range routeTable[m] {
			out = append(out, r.RouteInfo)
		}
	}
	return out
}

// Route matches a request to its AMP operation. path is the escaped path
// (r.URL.EscapedPath()); each segment is unescaped before it is compared or
// captured, as net/http.ServeMux does, so a tag operation's ARN may come
// escaped as one segment (arn%3Aaws%3A...%2Fws-1, as the AWS SDK sends it)
// or plain. The second result is false for a route AMP does not have; the
// caller decides what to do then (the Middleware denies by default).
func Route(method, path string) (Operation, bool) {
	if !strings.HasPrefix(path, "/") {
		return Operation{}, false
	}
	if method == "HEAD" {
		// net/http serves HEAD with the GET handlers: it needs GET's
		// permission.
		method = "GET"
	}
	segs := strings.Split(path[1:], "/")
	for _, r := range routeTable[method] {
		if op, ok := r.match(segs); ok {
			return op, true
		}
	}
	return Operation{}, false
}

func (r *route) match(segs []string) (Operation, bool) {
	pat := r.segments
	extra := len(segs) - len(pat) // segments a {name...} parameter takes beyond one
	if extra < 0 || extra > 0 && r.greedy < 0 {
		return Operation{}, false
	}
	op := Operation{Name: r.Operation, Action: r.Action, DataPlane: r.DataPlane, resource: r.resource}
	si := 0
	for pi, p := range pat {
		if !strings.HasPrefix(p, "{") {
			// Compared unescaped, as the router that serves the request
			// compares it: quer%79 is query.
			if seg, err := url.PathUnescape(segs[si]); err != nil || seg != p {
				return Operation{}, false
			}
			si++
			continue
		}
		n := 1
		if pi == r.greedy {
			n += extra
		}
		vals := make([]string, n)
		for i, s := range segs[si : si+n] {
			v, err := url.PathUnescape(s)
			if err != nil || v == "" {
				return Operation{}, false
			}
			vals[i] = v
		}
		si += n
		v := strings.Join(vals, "/")
		switch strings.TrimSuffix(strings.Trim(p, "{}"), "...") {
		case "workspaceId":
			op.WorkspaceID = v
		case "name":
			op.RuleGroupsNamespace = v
		case "anomalyDetectorId":
			op.AnomalyDetectorID = v
		case "scraperId":
			op.ScraperID = v
		case "resourceArn":
			op.ResourceARN = v
		}
	}
	return op, true
}

// isDataPlanePath reports whether a path is under a workspace's
// Prometheus or Alertmanager API, whose errors are Prometheus' JSON.
func isDataPlanePath(path string) bool {
	segs := strings.SplitN(strings.TrimPrefix(path, "/"), "/", 5)
	if len(segs) < 4 || segs[0] != "workspaces" {
		return false
	}
	return segs[2] == "api" || segs[2] == "alertmanager" && segs[3] == "api"
}
