package scraper

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/promspace/promspace/workspace"
)

// TestScrapeIntoWorkspace: a scraper with a static_configs target goes
// CREATING then ACTIVE, and fills its workspace through the ingest
// pipeline with the exporter's series, the scrape's own series and the
// configuration's external labels, taken as written.
func TestScrapeIntoWorkspace(t *testing.T) {
	env := newTestEnv(t)
	w := env.workspace(t)
	s, err := env.m.Create(context.Background(), env.input(w, env.staticConfig("")))
	require.NoError(t, err)
	require.Equal(t, StatusCreating, s.Status)
	require.Regexp(t, `^s-[0-9a-f-]{36}$`, s.ID)
	require.Equal(t, "arn:aws:aps:us-east-1:000000000000:scraper/"+s.ID, s.ARN)
	env.waitStatus(t, s.ID, StatusActive)

	got := waitSeries(t, w, "exporter_temperature_celsius")
	for series, v := range got {
		require.Equal(t, 21.5, v)
		require.Contains(t, series, `job="exporter"`)
		require.Contains(t, series, `clusterArn="${HOME}"`)
	}
	up := waitSeries(t, w, "up")
	for _, v := range up {
		require.Equal(t, 1.0, v)
	}
	// The metadata is stored once the samples are committed, so a query
	// may see the samples first.
	require.Eventually(t, func() bool {
		return len(w.Metadata().List("exporter_temperature_celsius", 0, 0)) > 0
	}, 5*time.Second, 10*time.Millisecond, "no metadata of exporter_temperature_celsius")
}

// TestInvalidConfiguration: a configuration Prometheus does not load is
// refused at create and update with a ValidationError naming the field;
// one whose job cannot build its HTTP client fails the update with the
// reason, UPDATE_FAILED, and a good update makes the scraper ACTIVE again.
func TestInvalidConfiguration(t *testing.T) {
	env := newTestEnv(t)
	w := env.workspace(t)
	for name, blob := range map[string][]byte{
		"not yaml":       []byte("scrape_configs: ["),
		"unknown field":  []byte("scrape_configs:\n  - job_name: a\n    no_such_field: 1\n"),
		"duplicate jobs": []byte("scrape_configs:\n  - job_name: a\n  - job_name: a\n"),
		"empty":          []byte("  \n"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := env.m.Create(context.Background(), env.input(w, blob))
			var ve *workspace.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "scrapeConfiguration.configurationBlob", ve.Fields[0].Name)
		})
	}

	s, err := env.m.Create(context.Background(), env.input(w, env.staticConfig("")))
	require.NoError(t, err)
	env.waitStatus(t, s.ID, StatusActive)
	_, err = env.m.Update(context.Background(), UpdateInput{Account: testAccount, ID: s.ID,
		ScrapeConfiguration: &ScrapeConfiguration{ConfigurationBlob: []byte("global: {scrape_interval: nope}")}})
	require.ErrorIs(t, err, workspace.ErrInvalid)

	bad := env.staticConfig("    tls_config:\n      ca_file: /nonexistent/ca.pem\n")
	u, err := env.m.Update(context.Background(), UpdateInput{Account: testAccount, ID: s.ID,
		ScrapeConfiguration: &ScrapeConfiguration{ConfigurationBlob: bad}})
	require.NoError(t, err)
	require.Equal(t, StatusUpdating, u.Status)
	failed := env.waitStatus(t, s.ID, StatusUpdateFailed)
	require.Contains(t, failed.StatusReason, "ca.pem")

	_, err = env.m.Update(context.Background(), UpdateInput{Account: testAccount, ID: s.ID,
		ScrapeConfiguration: &ScrapeConfiguration{ConfigurationBlob: env.staticConfig("")}})
	require.NoError(t, err)
	active := env.waitStatus(t, s.ID, StatusActive)
	require.Empty(t, active.StatusReason)

	// A new scraper whose job cannot scrape is CREATION_FAILED.
	c, err := env.m.Create(context.Background(), env.input(w, bad))
	require.NoError(t, err)
	require.Contains(t, env.waitStatus(t, c.ID, StatusCreationFailed).StatusReason, "ca.pem")
}

// TestValidation: AMP's field constraints, and a destination that does
// not exist.
func TestValidation(t *testing.T) {
	env := newTestEnv(t)
	w := env.workspace(t)
	cases := map[string]func(in *CreateInput){
		"alias":         func(in *CreateInput) { in.Alias = "-bad alias" },
		"cluster arn":   func(in *CreateInput) { in.Source.EKS.ClusterArn = "arn:aws:ec2:us-east-1:000000000000:cluster/x" },
		"no subnets":    func(in *CreateInput) { in.Source.EKS.SubnetIds = nil },
		"two sources":   func(in *CreateInput) { in.Source.VPC = &VPCConfiguration{} },
		"no source":     func(in *CreateInput) { in.Source = nil },
		"workspace arn": func(in *CreateInput) { in.Destination.AMP.WorkspaceArn = "ws-1" },
		"cloudwatch":    func(in *CreateInput) { in.Destination = &Destination{CloudWatch: &CloudWatchConfiguration{}} },
		"role":          func(in *CreateInput) { in.RoleConfiguration = &RoleConfiguration{SourceRoleArn: "role"} },
		"tags":          func(in *CreateInput) { in.Tags = map[string]string{"aws:x": "y"} },
		"no config":     func(in *CreateInput) { in.ScrapeConfiguration = nil },
		"other region": func(in *CreateInput) {
			in.Destination.AMP.WorkspaceArn = "arn:aws:aps:eu-west-1:000000000000:workspace/" + w.ID()
		},
		"other account without a role": func(in *CreateInput) {
			in.Destination.AMP.WorkspaceArn = "arn:aws:aps:us-east-1:111111111111:workspace/" + w.ID()
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			in := env.input(w, env.staticConfig(""))
			change(&in)
			_, err := env.m.Create(context.Background(), in)
			require.ErrorIs(t, err, workspace.ErrInvalid)
		})
	}
	in := env.input(w, env.staticConfig(""))
	in.Destination.AMP.WorkspaceArn = "arn:aws:aps:us-east-1:000000000000:workspace/ws-nope"
	_, err := env.m.Create(context.Background(), in)
	var nf *notFoundError
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "Workspace", nf.typ)
	in = env.input(w, env.staticConfig(""))
	in.Source = &Source{VPC: &VPCConfiguration{SubnetIds: []string{"subnet-1"}, SecurityGroupIds: []string{"sg-1"}}}
	_, err = env.m.Create(context.Background(), in)
	require.NoError(t, err, "a VPC source is accepted")
}

// TestReopen: scrapers come back from the bucket with their fields and
// run again; a deletion cut short by Close is finished on the next open.
func TestReopen(t *testing.T) {
	env := newTestEnv(t)
	w := env.workspace(t)
	in := env.input(w, env.staticConfig(""))
	in.Alias, in.Tags, in.ClientToken = "kept", map[string]string{"team": "a"}, "token-1"
	s, err := env.m.Create(context.Background(), in)
	require.NoError(t, err)
	env.waitStatus(t, s.ID, StatusActive)
	_, err = env.m.UpdateLogging(context.Background(), testAccount, s.ID, "arn:aws:logs:us-east-1:000000000000:log-group:scrapers:*", nil)
	require.NoError(t, err)
	require.NoError(t, env.m.Close())

	env.open(t)
	got := env.waitStatus(t, s.ID, StatusActive)
	require.Equal(t, "kept", got.Alias)
	require.Equal(t, map[string]string{"team": "a"}, got.Tags)
	require.Equal(t, s.CreatedAt, got.CreatedAt)
	require.NotNil(t, got.Logging)
	again, err := env.m.Create(context.Background(), in)
	require.NoError(t, err, "the client token is remembered")
	require.Equal(t, s.ID, again.ID)
	in.Alias = "other"
	_, err = env.m.Create(context.Background(), in)
	require.ErrorIs(t, err, workspace.ErrConflict)

	// A record left DELETING is deleted at open.
	del := got.clone()
	del.Status = StatusDeleting
	require.NoError(t, env.m.Close())
	require.NoError(t, env.m.store.put(context.Background(), del))
	env.open(t)
	env.waitGone(t, s.ID)
	recs, err := env.m.store.all(context.Background())
	require.NoError(t, err)
	require.Empty(t, recs)
}

// TestDelete: a deleted scraper answers DELETING and is then gone; its workspace, once deleted, leaves another scraper ACTIVE while its
// scrapes fail.
func TestDelete(t *testing.T) {
	env := newTestEnv(t)
	w := env.workspace(t)
	s, err := env.m.Create(context.Background(), env.input(w, env.staticConfig("")))
	require.NoError(t, err)
	env.waitStatus(t, s.ID, StatusActive)
	waitSeries(t, w, "up")
	d, err := env.m.Delete(context.Background(), testAccount, s.ID)
	require.NoError(t, err)
	require.Equal(t, StatusDeleting, d.Status)
	env.waitGone(t, s.ID)
	_, err = env.m.Delete(context.Background(), testAccount, s.ID)
	require.ErrorIs(t, err, workspace.ErrNotFound)

	s2, err := env.m.Create(context.Background(), env.input(w, env.staticConfig("")))
	require.NoError(t, err)
	env.waitStatus(t, s2.ID, StatusActive)
	require.NoError(t, env.reg.Delete(context.Background(), w.ID()))
	got, err := env.m.Describe(context.Background(), testAccount, s2.ID)
	require.NoError(t, err)
	require.Equal(t, StatusActive, got.Status)
	_, err = env.m.Describe(context.Background(), "111111111111", s2.ID)
	require.True(t, errors.Is(err, workspace.ErrNotFound), "another account's scraper does not exist")
}

// TestDefaultConfiguration: AMP's default configuration loads, with its
// kubernetes_sd_configs, and a scraper created with it is ACTIVE even
// where no cluster can be reached.
func TestDefaultConfiguration(t *testing.T) {
	env := newTestEnv(t)
	sc, err := loadConfiguration(DefaultConfiguration())
	require.NoError(t, err)
	jobs, err := sc.cfg.GetScrapeConfigs()
	require.NoError(t, err)
	require.Len(t, jobs, 4)
	require.Equal(t, "pod_exporter", jobs[0].JobName)

	w := env.workspace(t)
	s, err := env.m.Create(context.Background(), env.input(w, DefaultConfiguration()))
	require.NoError(t, err)
	env.waitStatus(t, s.ID, StatusActive)
}
