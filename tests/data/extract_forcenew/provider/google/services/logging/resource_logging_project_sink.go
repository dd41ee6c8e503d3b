// Fixture in the shape of a handwritten resource that adds attributes after building its
// schema from a shared function.

// ----------------------------------------------------------------------------
//
//	***     AUTO GENERATED CODE    ***    Type: Handwritten     ***
//
// ----------------------------------------------------------------------------

package logging

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-provider-google/google/registry"
)

func ResourceLoggingProjectSink() *schema.Resource {
	schm := &schema.Resource{
		Schema: resourceLoggingSinkSchema(),
	}
	schm.Schema["project"] = &schema.Schema{
		Type:     schema.TypeString,
		Optional: true,
		Computed: true,
		ForceNew: true,
	}
	schm.Schema["unique_writer_identity"] = &schema.Schema{
		Type:     schema.TypeBool,
		Optional: true,
		Default:  true,
	}
	return schm
}

func init() {
	registry.Schema{
		Name:        "google_logging_project_sink",
		ProductName: "logging",
		Type:        registry.SchemaTypeResource,
		Schema:      ResourceLoggingProjectSink(),
	}.Register()
}
