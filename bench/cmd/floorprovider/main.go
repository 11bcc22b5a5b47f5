// SPDX-License-Identifier: MPL-2.0

// Command floorprovider is the benchmark's floor: a provider named atlas
// whose atlas_tenant_snapshot_download resource has exactly the real
// resource's schema (validators, defaults and plan modifiers included) but
// calls no API. Its Create fills the computed attributes straight into the
// plan's raw value, the cheapest way the framework allows.
//
// Timing `terraform apply` of it shows what Terraform and
// terraform-plugin-framework cost for a resource of this shape, below
// which no implementation on the framework can go. With
// ATLAS_FLOOR_SCHEMA=minimal the resource keeps only its three required
// arguments and id, for the framework's cost at its smallest. With
// ATLAS_FLOOR_SERVER=raw the resource's validate, plan and apply calls are
// answered from the raw protocol values (rawServer), for what Terraform and
// the plugin protocol cost with no framework at all. With ATLAS_FLOOR_WAIT
// set to a duration, each Create waits that long, as one API call with
// that latency would.
//
// atlasbench builds it into a filesystem mirror; it is not part of the
// provider.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/defaults"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6/tf6server"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	atlasprovider "github.com/atlas-community/terraform-provider-atlas/internal/provider"
)

const (
	address      = "registry.terraform.io/atlas-community/atlas"
	resourceType = "atlas_tenant_snapshot_download"
)

func main() {
	atlasprovider.SilenceLogsUnlessAsked() // as the real provider's main does
	actual := atlasprovider.New("floor")()
	ctx := context.Background()

	rs, err := resourceSchema(ctx, actual, os.Getenv("ATLAS_FLOOR_SCHEMA") == "minimal")
	if err != nil {
		log.Fatal(err)
	}
	var wait time.Duration
	if v := os.Getenv("ATLAS_FLOOR_WAIT"); v != "" {
		if wait, err = time.ParseDuration(v); err != nil {
			log.Fatal(err)
		}
	}
	newProvider := func() provider.Provider {
		return &floor{actual: actual, resourceSchema: rs, wait: wait}
	}
	if os.Getenv("ATLAS_FLOOR_SERVER") == "raw" {
		var raw rawServer
		if raw, err = newRawServer(ctx, providerserver.NewProtocol6(newProvider())(), rs, wait); err != nil {
			log.Fatal(err)
		}
		err = tf6server.Serve(address, func() tfprotov6.ProviderServer { return raw })
	} else {
		err = providerserver.Serve(ctx, newProvider, providerserver.ServeOpts{Address: address})
	}
	if err != nil {
		log.Fatal(err)
	}
}

// resourceSchema is the real resource's schema, or its smallest useful
// part.
func resourceSchema(ctx context.Context, p provider.Provider, minimal bool) (schema.Schema, error) {
	if minimal {
		return schema.Schema{Attributes: map[string]schema.Attribute{
			"project_id":   schema.StringAttribute{Required: true},
			"cluster_name": schema.StringAttribute{Required: true},
			"snapshot_id":  schema.StringAttribute{Required: true},
			"id": schema.StringAttribute{Computed: true,
				PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		}}, nil
	}
	for _, newResource := range p.Resources(ctx) {
		r := newResource()
		var md resource.MetadataResponse
		r.Metadata(ctx, resource.MetadataRequest{ProviderTypeName: "atlas"}, &md)
		if md.TypeName != resourceType {
			continue
		}
		var sr resource.SchemaResponse
		r.Schema(ctx, resource.SchemaRequest{}, &sr)
		if sr.Diagnostics.HasError() {
			return schema.Schema{}, fmt.Errorf("schema of %s: %v", resourceType, sr.Diagnostics)
		}
		return sr.Schema, nil
	}
	return schema.Schema{}, fmt.Errorf("the provider has no %s", resourceType)
}

// floor is the provider: the real one's schema, nothing behind it.
type floor struct {
	actual         provider.Provider
	resourceSchema schema.Schema
	wait           time.Duration
}

func (f *floor) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "atlas"
}

func (f *floor) Schema(ctx context.Context, req provider.SchemaRequest, resp *provider.SchemaResponse) {
	f.actual.Schema(ctx, req, resp)
}

// Configure accepts any configuration: there is no API to call.
func (f *floor) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {}

func (f *floor) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{func() resource.Resource { return &download{schema: f.resourceSchema, wait: f.wait} }}
}

func (f *floor) DataSources(context.Context) []func() datasource.DataSource { return nil }

type download struct {
	schema schema.Schema
	wait   time.Duration
}

var jobs atomic.Uint64

func (d *download) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = resourceType
}

func (d *download) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = d.schema
}

// Create waits as one API call would, then gives every unknown string a
// value, as a finished job would, and leaves the rest of the plan as it is.
func (d *download) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	if err := sleep(ctx, d.wait); err != nil {
		resp.Diagnostics.AddError("Floor Provider Interrupted", err.Error())
		return
	}
	known, err := fillUnknown(req.Plan.Raw)
	if err != nil {
		resp.Diagnostics.AddError("Floor Provider Failed", err.Error())
		return
	}
	resp.State.Raw = known
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fillUnknown gives every unknown string in v a value: a new id, status
// COMPLETED, and "floor" for the rest.
func fillUnknown(v tftypes.Value) (tftypes.Value, error) {
	id := strconv.FormatUint(jobs.Add(1), 16)
	return tftypes.Transform(v, func(p *tftypes.AttributePath, v tftypes.Value) (tftypes.Value, error) {
		if v.IsKnown() || !v.Type().Is(tftypes.String) {
			return v, nil
		}
		switch p.String() {
		case `AttributeName("id")`:
			return tftypes.NewValue(tftypes.String, id), nil
		case `AttributeName("status")`:
			return tftypes.NewValue(tftypes.String, "COMPLETED"), nil
		}
		return tftypes.NewValue(tftypes.String, "floor"), nil
	})
}

func (d *download) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (d *download) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = req.Plan.Raw
}

func (d *download) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// rawServer answers the resource's validate, plan and apply calls itself,
// from the raw protocol values, and leaves the rest (schema, provider
// configuration) to the framework: what Terraform and the plugin protocol
// cost without the framework's per-attribute work. It validates nothing,
// and plans a create as the framework would for this schema: defaults
// applied, other computed attributes unknown.
type rawServer struct {
	tfprotov6.ProviderServer
	typ tftypes.Object
	// computed holds, for each computed attribute, what a create plans
	// when the configuration leaves it null: its default, or unknown.
	computed map[string]tftypes.Value
	wait     time.Duration
}

func newRawServer(ctx context.Context, fw tfprotov6.ProviderServer, rs schema.Schema, wait time.Duration) (rawServer, error) {
	typ, ok := rs.Type().TerraformType(ctx).(tftypes.Object)
	if !ok {
		return rawServer{}, fmt.Errorf("schema type %s is not an object", rs.Type().TerraformType(ctx))
	}
	s := rawServer{ProviderServer: fw, typ: typ, computed: map[string]tftypes.Value{}, wait: wait}
	for name, a := range rs.Attributes {
		if !a.IsComputed() {
			continue
		}
		at := s.typ.AttributeTypes[name]
		s.computed[name] = tftypes.NewValue(at, tftypes.UnknownValue)
		if b, ok := a.(schema.BoolAttribute); ok && b.Default != nil {
			var resp defaults.BoolResponse
			b.Default.DefaultBool(ctx, defaults.BoolRequest{}, &resp)
			if resp.Diagnostics.HasError() {
				return s, fmt.Errorf("default of %s: %v", name, resp.Diagnostics)
			}
			s.computed[name] = tftypes.NewValue(at, resp.PlanValue.ValueBool())
		}
	}
	return s, nil
}

func (s rawServer) ValidateResourceConfig(ctx context.Context, req *tfprotov6.ValidateResourceConfigRequest) (*tfprotov6.ValidateResourceConfigResponse, error) {
	if req.TypeName != resourceType {
		return s.ProviderServer.ValidateResourceConfig(ctx, req)
	}
	return &tfprotov6.ValidateResourceConfigResponse{}, nil
}

func (s rawServer) PlanResourceChange(ctx context.Context, req *tfprotov6.PlanResourceChangeRequest) (*tfprotov6.PlanResourceChangeResponse, error) {
	if req.TypeName != resourceType {
		return s.ProviderServer.PlanResourceChange(ctx, req)
	}
	proposed, err := req.ProposedNewState.Unmarshal(s.typ)
	if err != nil {
		return nil, err
	}
	prior, err := req.PriorState.Unmarshal(s.typ)
	if err != nil {
		return nil, err
	}
	if !proposed.IsNull() {
		var attrs, priorAttrs map[string]tftypes.Value
		if err := proposed.As(&attrs); err != nil {
			return nil, err
		}
		if err := prior.As(&priorAttrs); err != nil {
			return nil, err
		}
		for name, v := range s.computed {
			if !attrs[name].IsNull() {
				continue
			}
			if p, ok := priorAttrs[name]; ok {
				v = p // an update keeps what the state has
			}
			attrs[name] = v
		}
		proposed = tftypes.NewValue(s.typ, attrs)
	}
	planned, err := tfprotov6.NewDynamicValue(s.typ, proposed)
	if err != nil {
		return nil, err
	}
	return &tfprotov6.PlanResourceChangeResponse{PlannedState: &planned}, nil
}

func (s rawServer) ApplyResourceChange(ctx context.Context, req *tfprotov6.ApplyResourceChangeRequest) (*tfprotov6.ApplyResourceChangeResponse, error) {
	if req.TypeName != resourceType {
		return s.ProviderServer.ApplyResourceChange(ctx, req)
	}
	planned, err := req.PlannedState.Unmarshal(s.typ)
	if err != nil {
		return nil, err
	}
	if !planned.IsNull() {
		if err := sleep(ctx, s.wait); err != nil {
			return nil, err
		}
		if planned, err = fillUnknown(planned); err != nil {
			return nil, err
		}
	}
	state, err := tfprotov6.NewDynamicValue(s.typ, planned)
	if err != nil {
		return nil, err
	}
	return &tfprotov6.ApplyResourceChangeResponse{NewState: &state}, nil
}
