// SPDX-License-Identifier: MPL-2.0

package provider

// How a job resource is named: the import ID PROJECT_ID/CLUSTER/JOB_ID,
// and the same three parts as a resource identity (Terraform 1.12+),
// which import blocks and list results use.

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// jobIdentitySchema is the identity of a job (a "download job", a
// "restore job") of a cluster of kind.
func jobIdentitySchema(kind downloadKind, job string) identityschema.Schema {
	return identityschema.Schema{
		Attributes: map[string]identityschema.Attribute{
			"project_id": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "Id of the Atlas project that holds the cluster.",
			},
			kind.clusterAttr: identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "Name of the " + kind.clusterNoun + ".",
			},
			"job_id": identityschema.StringAttribute{
				RequiredForImport: true,
				Description:       "Id of the " + job + ".",
			},
		},
	}
}

// setIdentity records the job's identity; id is nil where Terraform does
// not support identities.
func setIdentity(ctx context.Context, id *tfsdk.ResourceIdentity, kind downloadKind, project, cluster, jobID string) diag.Diagnostics {
	if id == nil {
		return nil
	}
	var diags diag.Diagnostics
	diags.Append(id.SetAttribute(ctx, path.Root("project_id"), project)...)
	diags.Append(id.SetAttribute(ctx, path.Root(kind.clusterAttr), cluster)...)
	diags.Append(id.SetAttribute(ctx, path.Root("job_id"), jobID)...)
	return diags
}

// importTarget is what an import names: the import ID, or an import
// block's identity.
func importTarget(ctx context.Context, req resource.ImportStateRequest, clusterAttr string) (project, cluster, job string, err error) {
	if req.ID != "" || req.Identity == nil {
		return parseImportID(req.ID, clusterAttr)
	}
	var p, c, j types.String
	req.Identity.GetAttribute(ctx, path.Root("project_id"), &p)
	req.Identity.GetAttribute(ctx, path.Root(clusterAttr), &c)
	req.Identity.GetAttribute(ctx, path.Root("job_id"), &j)
	return parseImportID(p.ValueString()+"/"+c.ValueString()+"/"+j.ValueString(), clusterAttr)
}

// parseImportID splits PROJECT_ID/CLUSTER/JOB_ID and checks each part.
func parseImportID(id, clusterAttr string) (project, cluster, job string, err error) {
	form := fmt.Sprintf("PROJECT_ID/%s/JOB_ID, for example 6568a1b2c3d4e5f601234567/Cluster0/6568a1b2c3d4e5f6000000b1",
		strings.ToUpper(clusterAttr))
	parts := strings.Split(id, "/")
	if len(parts) != 3 {
		return "", "", "", fmt.Errorf("The import ID %q does not have the form %s.", id, form)
	}
	project, cluster, job = parts[0], parts[1], parts[2]
	if msg := checkID(project); msg != "" {
		return "", "", "", fmt.Errorf("The project id in import ID %q %s. Expected %s.", id, msg, form)
	}
	if msg := checkClusterName(cluster); msg != "" {
		return "", "", "", fmt.Errorf("The cluster name in import ID %q %s. Expected %s.", id, msg, form)
	}
	if msg := checkID(job); msg != "" {
		return "", "", "", fmt.Errorf("The job id in import ID %q %s. Expected %s.", id, msg, form)
	}
	return project, cluster, job, nil
}
