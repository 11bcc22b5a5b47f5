// SPDX-License-Identifier: MPL-2.0

package atlas_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
	"github.com/atlas-community/terraform-provider-atlas/internal/fakeclock"
)

// Restore targets added to the default seed: two Flex clusters of the
// default project.
const (
	stagingName = "Staging0"
	otherName   = "Staging1"
)

var flexSource = atlas.Cluster{Family: atlas.Flex, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultFlexClusterName}

// newRestorePair is newContractPair over a seed with restore targets.
func newRestorePair(t *testing.T, faults atlassim.Faults) (*atlassim.Server, *atlas.Client, *postWatcher, *fakeclock.Clock) {
	t.Helper()
	seed := atlassim.DefaultSeed()
	for _, name := range []string{stagingName, otherName} {
		seed.Projects[0].FlexClusters = append(seed.Projects[0].FlexClusters, atlassim.SeedCluster{Name: name, Snapshots: []atlassim.SeedSnapshot{}})
	}
	clock := fakeclock.New(contractStart)
	sim, err := atlassim.New(atlassim.Config{Now: clock.Now, Seed: seed, RestoreDuration: time.Minute, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	watcher := &postWatcher{base: srv.Client().Transport}
	c, err := atlas.New(atlas.Config{
		BaseURL: srv.URL, PublicKey: atlassim.DefaultPublicKey, PrivateKey: atlassim.DefaultPrivateKey,
		Transport: watcher, Retry: fastRetry, Now: clock.Now, Sleep: clock.Sleep, Jitter: func() float64 { return 0 },
	})
	if err != nil {
		t.Fatal(err)
	}
	return sim, c, watcher, clock
}

func restoreOnto(name string) atlas.Restore {
	return atlas.Restore{SnapshotID: atlassim.DefaultFlexSnapshotID, TargetName: name, TargetProjectID: atlassim.DefaultProjectID}
}

// TestContractRestoreRunsToCompletion: a restore answers a PENDING RESTORE
// job for the target, without a link, whose expirationDate is six hours
// after restoreScheduledDate; WaitForJob takes it, link or not, as finished
// once COMPLETED.
func TestContractRestoreRunsToCompletion(t *testing.T) {
	sim, c, _, _ := newRestorePair(t, atlassim.Faults{})
	ctx := context.Background()
	job, err := c.RequestRestore(ctx, flexSource, restoreOnto(stagingName))
	if err != nil {
		t.Fatal(err)
	}
	if job.DeliveryType != "RESTORE" || job.Status != atlas.StatusPending || job.SnapshotURL != "" ||
		job.TargetDeploymentItemName != stagingName || job.TargetProjectID != atlassim.DefaultProjectID {
		t.Fatalf("answer %+v, want a PENDING RESTORE job onto %s without a link", job, stagingName)
	}
	scheduled := parseRFC3339(t, "restoreScheduledDate", job.RestoreScheduledDate)
	if exp := parseRFC3339(t, "expirationDate", job.ExpirationDate); exp.Sub(scheduled) != 6*time.Hour {
		t.Errorf("expirationDate %s is not six hours after restoreScheduledDate %s", exp, scheduled)
	}
	done, err := c.WaitForJob(ctx, flexSource, job, contractStart.Add(10*time.Minute))
	if err != nil {
		t.Fatalf("WaitForJob: %v (last status %s)", err, done.Status)
	}
	if done.Status != atlas.StatusCompleted || done.RestoreFinishedDate == "" {
		t.Errorf("waited job %+v, want COMPLETED with restoreFinishedDate", done)
	}
	if n := len(sim.Jobs()); n != 1 {
		t.Errorf("simulator holds %d jobs, want 1", n)
	}
}

// TestContractLostRestoreAnswerIsFound: a restore whose answer is lost is
// found in the list, and only a RESTORE job of the same snapshot and
// target is taken: a download of the snapshot and a restore onto another
// cluster, requested in the same second and unclaimed by the restore's
// record, are neither taken nor make the search ambiguous.
func TestContractLostRestoreAnswerIsFound(t *testing.T) {
	sim, c, watcher, clock := newRestorePair(t, atlassim.Faults{})
	ctx := context.Background()
	download, err := c.RequestDownload(ctx, flexSource, atlassim.DefaultFlexSnapshotID)
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.RequestRestore(ctx, flexSource, restoreOnto(otherName))
	if err != nil {
		t.Fatal(err)
	}
	if err := sim.SetFaults(atlassim.Faults{DropRate: 1}); err != nil {
		t.Fatal(err)
	}
	watcher.onLost = func() {
		if err := sim.SetFaults(atlassim.Faults{}); err != nil {
			t.Error(err)
		}
		clock.Advance(5 * time.Second)
	}
	job, err := c.RequestRestore(ctx, flexSource, restoreOnto(stagingName))
	if err != nil {
		t.Fatal(err)
	}
	if watcher.lost != 1 {
		t.Fatalf("%d POSTs lost, want 1", watcher.lost)
	}
	jobs := sim.Jobs()
	if len(jobs) != 3 {
		t.Fatalf("simulator holds %d jobs, want 3 (no second restore): %+v", len(jobs), jobs)
	}
	if job.ID == download.ID || job.ID == other.ID || job.ID != jobs[2].ID || job.TargetDeploymentItemName != stagingName {
		t.Errorf("recovered job %s onto %s; download %s, other restore %s, lost restore %s",
			job.ID, job.TargetDeploymentItemName, download.ID, other.ID, jobs[2].ID)
	}
}

// TestContractTenantRestore: the family gives the tenant restore endpoint
// (.../backup/tenant/restore) at no cost; the simulator answers it as the
// Flex one, onto a tenant cluster.
func TestContractTenantRestore(t *testing.T) {
	_, c, _, _ := newRestorePair(t, atlassim.Faults{})
	tenant := atlas.Cluster{Family: atlas.TenantV1, ProjectID: atlassim.DefaultProjectID, Name: atlassim.DefaultClusterName}
	job, err := c.RequestRestore(context.Background(), tenant, atlas.Restore{SnapshotID: atlassim.DefaultSnapshotID,
		TargetName: atlassim.DefaultSecondClusterName, TargetProjectID: atlassim.DefaultProjectID})
	if err != nil {
		t.Fatal(err)
	}
	if job.DeliveryType != "RESTORE" || job.TargetDeploymentItemName != atlassim.DefaultSecondClusterName {
		t.Errorf("answer %+v, want a RESTORE job onto %s", job, atlassim.DefaultSecondClusterName)
	}
}
