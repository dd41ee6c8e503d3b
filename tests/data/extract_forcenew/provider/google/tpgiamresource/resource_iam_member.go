// Fixture in the shape of the provider's generic IAM member resource (trimmed by hand).

// ----------------------------------------------------------------------------
//
//	***     AUTO GENERATED CODE    ***    Type: Handwritten     ***
//
// ----------------------------------------------------------------------------

package tpgiamresource

import (
	"time"

	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-provider-google/google/tpgresource"
)

var IamMemberBaseSchema = map[string]*schema.Schema{
	"role": {
		Type:     schema.TypeString,
		Required: true,
		ForceNew: true,
	},
	"member": {
		Type:     schema.TypeString,
		Required: true,
		ForceNew: true,
	},
	"condition": {
		Type:     schema.TypeList,
		Optional: true,
		MaxItems: 1,
		ForceNew: true,
		Elem: &schema.Resource{
			Schema: map[string]*schema.Schema{
				"expression": {
					Type:     schema.TypeString,
					Required: true,
					ForceNew: true,
				},
				"title": {
					Type:     schema.TypeString,
					Required: true,
					ForceNew: true,
				},
			},
		},
	},
	"etag": {
		Type:     schema.TypeString,
		Computed: true,
	},
}

type IamSettings struct {
	EnableBatching bool
	CreateTimeOut  int64
}

func NewIamSettings(options ...func(*IamSettings)) *IamSettings {
	settings := &IamSettings{}
	for _, o := range options {
		o(settings)
	}
	return settings
}

func IamWithBatching(s *IamSettings) {
	s.EnableBatching = true
}

func ResourceIamMember(parentSpecificSchema map[string]*schema.Schema, newUpdaterFunc interface{}, resourceIdParser interface{}, options ...func(*IamSettings)) *schema.Resource {
	settings := NewIamSettings(options...)

	createTimeOut := time.Duration(settings.CreateTimeOut) * time.Minute

	resourceSchema := &schema.Resource{
		Schema:        tpgresource.MergeSchemas(IamMemberBaseSchema, parentSpecificSchema),
		UseJSONNumber: true,
		Timeouts: &schema.ResourceTimeout{
			Create: &createTimeOut,
		},
	}

	return resourceSchema
}
