// SPDX-License-Identifier: MPL-2.0

package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/action/timeouts"
	"github.com/hashicorp/terraform-plugin-framework/action"
	"github.com/hashicorp/terraform-plugin-framework/action/schema"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlas"
)

var (
	_ action.ActionWithConfigure      = (*archiveAction[tenantArchiveModel, *tenantArchiveModel])(nil)
	_ action.ActionWithValidateConfig = (*archiveAction[tenantArchiveModel, *tenantArchiveModel])(nil)
	_ action.ActionWithConfigure      = (*archiveAction[flexArchiveModel, *flexArchiveModel])(nil)
)

// defaultArchiveTimeout bounds a whole invocation (the wait for the link
// and the download) when the configuration sets no timeouts block.
const defaultArchiveTimeout = 2 * time.Hour

// archiveProgressEvery is the pace of the progress lines Terraform shows.
const archiveProgressEvery = 5 * time.Second

func newTenantSnapshotArchiveAction() action.Action {
	return &archiveAction[tenantArchiveModel, *tenantArchiveModel]{kind: tenantDownload}
}

func newFlexSnapshotArchiveAction() action.Action {
	return &archiveAction[flexArchiveModel, *flexArchiveModel]{kind: flexDownload}
}

// archiveConfig is what both archive actions take besides the cluster.
type archiveConfig struct {
	SnapshotID types.String   `tfsdk:"snapshot_id"`
	Path       types.String   `tfsdk:"path"`
	JobID      types.String   `tfsdk:"job_id"`
	Overwrite  types.Bool     `tfsdk:"overwrite"`
	Timeouts   timeouts.Value `tfsdk:"timeouts"`
}

type archiveModel interface {
	archive() *archiveConfig
	target() (projectID, cluster string)
}

type tenantArchiveModel struct {
	ProjectID   types.String `tfsdk:"project_id"`
	ClusterName types.String `tfsdk:"cluster_name"`
	archiveConfig
}

func (m *tenantArchiveModel) archive() *archiveConfig { return &m.archiveConfig }
func (m *tenantArchiveModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.ClusterName.ValueString()
}

type flexArchiveModel struct {
	ProjectID types.String `tfsdk:"project_id"`
	Name      types.String `tfsdk:"name"`
	archiveConfig
}

func (m *flexArchiveModel) archive() *archiveConfig { return &m.archiveConfig }
func (m *flexArchiveModel) target() (string, string) {
	return m.ProjectID.ValueString(), m.Name.ValueString()
}

// archiveAction downloads a snapshot's archive to a local file: it requests
// (or reuses) a download job, waits for its link as the download resources
// do, and streams the archive with resume, verification and a checksum.
type archiveAction[M any, P interface {
	*M
	archiveModel
}] struct {
	kind downloadKind
	data *providerData
}

func (a *archiveAction[M, P]) Metadata(_ context.Context, req action.MetadataRequest, resp *action.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + a.kind.family.Name + "_snapshot_archive"
}

func (a *archiveAction[M, P]) Configure(_ context.Context, req action.ConfigureRequest, resp *action.ConfigureResponse) {
	a.data = configureData(req.ProviderData, &resp.Diagnostics)
}

func (a *archiveAction[M, P]) Schema(ctx context.Context, _ action.SchemaRequest, resp *action.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Downloads " + a.kind.summary + " to a local file. It requests a download job " +
			"(or reuses `job_id`), waits until Atlas has prepared the link, and streams the archive to a " +
			"temporary file beside `path`, resuming with HTTP range requests after a dropped connection or a " +
			"server error. While the bytes arrive it checks that they are a complete gzip stream (an answer " +
			"that is not one ends the download at once) and computes their SHA-256; at the end it syncs " +
			"the file, moves it to `path` and writes `path.sha256` in the `sha256sum` format. A link that expires during the " +
			"download is renewed with a new download job. Progress (bytes, rate, time left) is reported " +
			"while it runs; the link itself is never shown.\n\n" +
			"The archive is at `path` only once a progress line says `Saved snapshot ...`. Until then it is " +
			"written to a temporary file beside `path`, which is deleted if the download does not finish (one " +
			"that a killed run left is deleted by the next run to the same `path`). When Terraform is " +
			"interrupted during the download, the download stops, and its last progress line and its error " +
			"say so; but Terraform may show neither, and report the action as invoked: terraform-plugin-go " +
			"(v0.31.0) drops what a provider sends once Terraform has asked it to stop.\n\n" +
			"Trigger it from a resource's `lifecycle { action_trigger { ... } }`, or run it with " +
			"`terraform apply -invoke=action." + "atlas_" + a.kind.family.Name + "_snapshot_archive.<name>`. Needs Terraform 1.14 or later.",
		Attributes: map[string]schema.Attribute{
			"project_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: projectIDDoc,
				Validators:          []validator.String{idValidator()},
			},
			a.kind.clusterAttr: schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "Name of the " + a.kind.clusterNoun + " whose snapshot to download.",
				Validators:          clusterNameValidators(),
			},
			"snapshot_id": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: snapshotIDDoc,
				Validators:          []validator.String{idValidator()},
			},
			"path": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "File the archive is written to. Its directory must exist and be writable. " +
					"The checksum goes to the same name with `.sha256` appended.",
			},
			"job_id": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Id of an existing download job of this snapshot (for example the `id` of an " +
					"`atlas_" + a.kind.typeSuffix + "` resource) whose link to use instead of requesting a new one.",
				Validators: []validator.String{idValidator()},
			},
			"overwrite": schema.BoolAttribute{
				Optional: true,
				MarkdownDescription: "Whether an existing file at `path`, and at `path.sha256`, is replaced. Defaults to `false`: " +
					"anything at either (a file, a symbolic link) is an error.",
			},
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx),
		},
	}
}

// ValidateConfig checks path's directory at plan time where path is known.
// An existing file is left to Invoke: every plan after a download would
// otherwise fail on the file the action itself wrote, though an
// after_create trigger will not run the action again.
func (a *archiveAction[M, P]) ValidateConfig(ctx context.Context, req action.ValidateConfigRequest, resp *action.ValidateConfigResponse) {
	checkTimeouts(ctx, req.Config, &resp.Diagnostics)
	var p types.String
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("path"), &p)...)
	if resp.Diagnostics.HasError() || p.IsNull() || p.IsUnknown() {
		return
	}
	if err := atlas.CheckArchivePath(p.ValueString(), true); err != nil {
		addArchivePathError(&resp.Diagnostics, err)
	}
}

// addArchivePathError words a problem with path, on the attribute.
func addArchivePathError(diags *diag.Diagnostics, err error) {
	var ae *atlas.ArchiveError
	if !errors.As(err, &ae) {
		diags.AddAttributeError(path.Root("path"), "Invalid Archive Path", plainError(err)+".")
		return
	}
	summary, detail := "Invalid Archive Path", ""
	switch ae.Kind {
	case atlas.ArchivePathEmpty:
		detail = "The path is empty. Give the file the archive is to be written to."
	case atlas.ArchiveNoDir:
		detail = fmt.Sprintf("The archive cannot be written to %s: the directory %s does not exist. Create the directory or choose another path.", ae.Path, ae.At)
	case atlas.ArchiveDirNotWritable:
		detail = fmt.Sprintf("The archive cannot be written to %s: the directory %s is not writable (%s). Make it writable or choose another path.", ae.Path, ae.At, plainError(ae.Err))
	case atlas.ArchiveIsDir, atlas.ArchiveExists:
		what := "The path " + ae.At
		if ae.At != ae.Path {
			what = fmt.Sprintf("%s, where the checksum of %s goes,", ae.At, ae.Path)
		}
		if ae.Kind == atlas.ArchiveIsDir {
			detail = what + " is a directory. Give the name of a file to write the archive to, or remove the directory."
			break
		}
		summary = "Archive File Already Exists"
		switch ae.Found {
		case atlas.ArchiveFoundFile:
			what += " is an existing file"
		case atlas.ArchiveFoundSymlink:
			what += " is a symbolic link to " + ae.Target
		case atlas.ArchiveFoundDangling:
			what += fmt.Sprintf(" is a dangling symbolic link (to %s, which does not exist)", ae.Target)
		default:
			what += " already exists"
		}
		detail = what + ", and overwrite is not set. Set overwrite = true to replace it, or choose another path."
	default:
		detail = fmt.Sprintf("The archive cannot be written to %s: %s.", ae.Path, plainError(err))
	}
	diags.AddAttributeError(path.Root("path"), summary, detail)
}

func (a *archiveAction[M, P]) Invoke(ctx context.Context, req action.InvokeRequest, resp *action.InvokeResponse) {
	ctx = a.data.logContext(ctx)
	var m M
	p := P(&m)
	resp.Diagnostics.Append(req.Config.Get(ctx, p)...)
	if resp.Diagnostics.HasError() {
		return
	}
	cfg := p.archive()
	client, diags := a.data.Client()
	resp.Diagnostics.Append(diags...)
	timeout, diags := cfg.Timeouts.Invoke(ctx, defaultArchiveTimeout)
	resp.Diagnostics.Append(diags...)
	if resp.Diagnostics.HasError() {
		return
	}
	ctx, cancel, deadline := bound(ctx, client, timeout)
	defer cancel()
	send := func(msg string) { sendProgress(resp.SendProgress, ctx.Done(), msg) }
	dest, overwrite := cfg.Path.ValueString(), cfg.Overwrite.ValueBool()
	// Before any job is requested: a bad path should cost nothing.
	if err := atlas.CheckArchivePath(dest, overwrite); err != nil {
		addArchivePathError(&resp.Diagnostics, err)
		return
	}
	project, name := p.target()
	cl := atlas.Cluster{Family: a.kind.family, ProjectID: project, Name: name}
	snapshotID := cfg.SnapshotID.ValueString()

	var job *atlas.RestoreJob
	if id := cfg.JobID.ValueString(); id != "" {
		j, err := client.GetRestoreJob(ctx, cl, id)
		if err != nil {
			addAtlasError(&resp.Diagnostics, a.kind, "read download job "+id, err)
			return
		}
		if j.SnapshotID != "" && j.SnapshotID != snapshotID {
			resp.Diagnostics.AddAttributeError(path.Root("job_id"), "Download Job Is of Another Snapshot",
				fmt.Sprintf("Download job %s is of snapshot %s, not of snapshot_id %s. Give the id of a job of this snapshot, or leave job_id out to request a new one.", id, j.SnapshotID, snapshotID))
			return
		}
		job = j
	}
	const kept = "Nothing was downloaded. Atlas has no call to delete the job; its link expires by itself."
	const onTimeout = "Raise the timeout with a timeouts block, or invoke again with job_id set to this job's id to " +
		"go on waiting for it rather than request another."
	// linkOf waits for job's link as every kind does, and says so in the
	// progress; nil means the job has none, and diags say why.
	linkOf := func(job *atlas.RestoreJob, kept string, diags *diag.Diagnostics) *atlas.RestoreJob {
		job = waitForLink(ctx, client, a.kind, cl, job, deadline, timeout, kept, onTimeout, diags, func(j *atlas.RestoreJob) bool {
			send(fmt.Sprintf("Waiting for Atlas to prepare the download link of job %s (%s).", j.ID, j.Status))
			return true
		})
		if diags.HasError() || !job.Finished() || job.Status == atlas.StatusFailed {
			return nil
		}
		return job
	}
	switch {
	case job == nil:
		if job = requestDownload(ctx, client, a.kind, cl, snapshotID, &resp.Diagnostics); job == nil {
			return
		}
	case job.Status == atlas.StatusCompleted && job.LinkExpired(client.ServerNow()):
		send(fmt.Sprintf("The download link of job %s has expired; requesting a new download job.", job.ID))
		if job = requestDownload(ctx, client, a.kind, cl, snapshotID, &resp.Diagnostics); job == nil {
			return
		}
	}
	if job = linkOf(job, kept, &resp.Diagnostics); job == nil {
		return
	}
	renew := func(ctx context.Context) (string, error) {
		send(fmt.Sprintf("The download link of job %s expired; requesting a new download job.", job.ID))
		var d diag.Diagnostics
		defer func() { resp.Diagnostics.Append(d...) }()
		fresh := requestDownload(ctx, client, a.kind, cl, snapshotID, &d)
		if fresh == nil {
			return "", errors.New("requesting a new download job failed")
		}
		job = fresh
		if fresh = linkOf(fresh, "The part downloaded so far was discarded.", &d); fresh == nil {
			return "", errors.New("the new download job did not get a link")
		}
		send(fmt.Sprintf("New download job %s has its link; the download continues.", fresh.ID))
		job = fresh
		return fresh.SnapshotURL, nil
	}
	// Terraform may show nothing sent after it stops the action (see
	// sendProgress): this line tells what becomes of an unfinished download.
	send(fmt.Sprintf("Downloading snapshot %s (job %s) to %s, through a temporary file beside it that is deleted if the download does not finish.", snapshotID, job.ID, dest))
	res, err := client.DownloadArchive(ctx, job.SnapshotURL, atlas.ArchiveOptions{
		Path: dest, Overwrite: overwrite, Renew: renew, ProgressEvery: archiveProgressEvery,
		Progress: func(pr atlas.ArchiveProgress) { send(progressLine(pr)) },
	})
	var ae *atlas.ArchiveError
	if errors.As(err, &ae) && ae.Kind == atlas.ArchiveStopped {
		// Once Terraform has stopped the action, its error may never be
		// shown (terraform-plugin-go drops events after the stop): the
		// last progress line says what became of the download. ctx has
		// ended, so the line gets a moment of its own.
		lastCtx, cancelLast := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		why := "it was stopped"
		if errors.Is(err, context.DeadlineExceeded) {
			why = "the action's timeout ended it"
		}
		sendProgress(resp.SendProgress, lastCtx.Done(), fmt.Sprintf(
			"The download of snapshot %s did not finish: %s. Nothing was written to %s, and the part downloaded so far was deleted.", snapshotID, why, dest))
		cancelLast()
	}
	if err != nil {
		addArchiveError(&resp.Diagnostics, snapshotID, job.ID, res, err)
		return
	}
	tflog.Debug(ctx, "archive downloaded", map[string]any{
		"path": res.Path, "bytes": res.Size, "requests": res.Attempts, "resumes": res.Resumes,
		"restarts": res.Restarts, "renewals": res.Renewals,
	})
	send(fmt.Sprintf("Saved snapshot %s to %s (%s, sha256 %s; checksum in %s).", snapshotID, res.Path, byteSize(res.Size), res.SHA256, res.ChecksumPath))
}

// addArchiveError words a failed download; res is set when the archive is
// in place all the same.
func addArchiveError(diags *diag.Diagnostics, snapshotID, jobID string, res *atlas.ArchiveResult, err error) {
	var ae *atlas.ArchiveError
	if !errors.As(err, &ae) {
		diags.AddError("Snapshot Archive Download Failed", fmt.Sprintf("Downloading snapshot %s (job %s) failed: %s.", snapshotID, jobID, plainError(err)))
		return
	}
	what := fmt.Sprintf("Downloading snapshot %s (job %s) to %s", snapshotID, jobID, ae.Path)
	if ae.Kind == atlas.ArchiveChecksumFailed && res != nil {
		cause := archiveCause(ae.Err)
		if errors.Is(ae.Err, fs.ErrExist) {
			cause = "something was put there during the download, and was left alone"
		}
		diags.AddError("Snapshot Archive Checksum Not Written", fmt.Sprintf(
			"The archive of snapshot %s (job %s) is complete at %s (%s, sha256 %s), but its checksum file %s could not be written: %s.\n\n"+
				"Make room for %s (free disk space, or remove what is there), then run the action again with overwrite = true, or write the line \"%s  %s\" to it yourself.",
			snapshotID, jobID, res.Path, byteSize(res.Size), res.SHA256, ae.At, cause, ae.At, res.SHA256, filepath.Base(res.Path)))
		return
	}
	var cause, advice string
	switch ae.Kind {
	case atlas.ArchivePathEmpty, atlas.ArchiveNoDir, atlas.ArchiveDirNotWritable, atlas.ArchiveIsDir, atlas.ArchiveExists:
		addArchivePathError(diags, err)
		return
	case atlas.ArchiveStopped:
		if errors.Is(ae.Err, context.DeadlineExceeded) {
			diags.AddError("Timed Out Downloading the Snapshot Archive",
				what+" did not finish before the action's timeout; nothing was kept. "+
					"Raise it with timeouts { invoke = \"...\" } in the action's config.")
			return
		}
		diags.AddError("Snapshot Archive Download Stopped", what+" was stopped before it finished; nothing was kept. Run the action again.")
		return
	case atlas.ArchiveBadLink:
		cause, advice = "the download link Atlas gave is not an https URL", "Request a new download; if it repeats, report it."
	case atlas.ArchiveRefused:
		cause, advice = "the download link was refused with "+archiveCause(ae.Err), "Run the action again; it requests a fresh link if the job's has expired."
	case atlas.ArchiveExpired:
		cause, advice = "the download link expired ("+archiveCause(ae.Err)+")", "Run the action again."
		if ae.Renewals > 0 {
			cause += fmt.Sprintf(" after %d renewals, the most allowed", ae.Renewals)
		}
	case atlas.ArchiveRenewFailed:
		cause, advice = "the download link expired and no new one could be obtained ("+archiveCause(ae.Err)+")", "Run the action again."
	case atlas.ArchiveUnreachable:
		cause = fmt.Sprintf("%d attempts in a row brought no data; the last: %s", ae.Attempts, archiveCause(ae.Err))
		if ae.Attempts <= 1 {
			cause = "the download link could not be reached: " + archiveCause(ae.Err)
		}
		advice = "Run the action again; it requests a fresh link if the job's has expired."
		if ae.Permanent != nil {
			cause = "the download link could not be reached: " + permanentPhrase(ae.Permanent)
			advice = "Trying again would not help, so the provider did not retry. Check that this machine resolves " +
				"and trusts the download host, directly or through its proxy (HTTPS_PROXY, NO_PROXY)."
		}
	case atlas.ArchiveCorrupt:
		cause = "the server sent bytes that are not a complete gzip archive (" + archiveCause(ae.Err) + ")"
		advice = "Run the action again; if it repeats, request a new download."
	default:
		cause, advice = "the file could not be written ("+archiveCause(ae.Err)+")", "Check the disk's space and permissions, and run the action again."
	}
	diags.AddError("Snapshot Archive Download Failed", fmt.Sprintf("%s failed: %s. Nothing was kept at the path.\n\n%s", what, cause, advice))
}

// archiveCause words why an attempt ended or a download failed.
func archiveCause(err error) string {
	var se *atlas.ArchiveStatusError
	var ae *atlas.ArchiveError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("HTTP %d", se.StatusCode)
	case errors.As(err, &ae) && ae.Kind == atlas.ArchiveBadLink: // a renewal's link
		return "the new link Atlas gave is not an https URL"
	case errors.Is(err, atlas.ErrArchiveStalled):
		return "the connection stalled"
	case errors.Is(err, atlas.ErrArchiveChanged):
		return "the archive changed on the server, or the server does not resume downloads"
	case errors.Is(err, atlas.ErrArchiveNoResume):
		return "the server cannot continue the part downloaded so far"
	case errors.Is(err, atlas.ErrArchiveRedirected):
		return "the download link redirected to another host, or too many times"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the connection ended early"
	}
	return plainError(err)
}

// progressLine is one progress event's text ("" for none); it never holds
// the link.
func progressLine(p atlas.ArchiveProgress) string {
	switch p.Event {
	case atlas.ArchiveResumed:
		return fmt.Sprintf("The download resumes at byte %d.", p.Done)
	case atlas.ArchiveRestarted:
		return "The download starts again from the beginning: " + archiveCause(p.Err) + "."
	case atlas.ArchiveRenewed:
		return "" // the renewal sends its own lines
	case atlas.ArchiveRetrying:
		return fmt.Sprintf("The download was interrupted at byte %d (%s); retrying in %s.", p.Done, archiveCause(p.Err), p.Delay)
	case atlas.ArchiveFinishing:
		return "Every byte has arrived; finishing the gzip check and syncing the file to disk."
	}
	line := byteSize(p.Done)
	if p.Total >= 0 {
		pct := 100.0
		if p.Total > 0 {
			pct = float64(p.Done) * 100 / float64(p.Total)
		}
		line = fmt.Sprintf("%s of %s (%.0f%%)", byteSize(p.Done), byteSize(p.Total), pct)
	}
	if p.Rate > 0 {
		line += fmt.Sprintf(", %s/s", byteSize(int64(p.Rate)))
	}
	if p.ETA >= 0 && p.Done < p.Total {
		line += fmt.Sprintf(", about %s left", p.ETA)
	}
	return "Downloaded " + line + "."
}

func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// sendProgress sends msg as a progress event, giving up when done is
// closed. Terraform stops an action by ending its context, and
// terraform-plugin-go (v0.31.0, the newest) then stops reading events: a
// send would wait for ever, and the download's clean-up with it. The
// goroutine left behind delivers msg if anything still reads.
func sendProgress(send func(action.InvokeProgressEvent), done <-chan struct{}, msg string) {
	if send == nil || msg == "" {
		return
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		send(action.InvokeProgressEvent{Message: msg})
	}()
	select {
	case <-sent:
	case <-done:
	}
}
