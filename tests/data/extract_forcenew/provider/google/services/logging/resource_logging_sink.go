// Fixture: the schema shared by the sink resources.

package logging

import "github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"

func resourceLoggingSinkSchema() map[string]*schema.Schema {
	return map[string]*schema.Schema{
		"name": {
			Type:     schema.TypeString,
			Required: true,
			ForceNew: true,
		},
		"destination": {
			Type:     schema.TypeString,
			Required: true,
		},
		"writer_identity": {
			Type:     schema.TypeString,
			Computed: true,
		},
	}
}
