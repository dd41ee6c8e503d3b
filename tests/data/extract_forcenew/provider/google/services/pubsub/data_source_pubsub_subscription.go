// Fixture: a data source of the same name must not be taken for the resource.

// ----------------------------------------------------------------------------
//
//	***     AUTO GENERATED CODE    ***    Type: Handwritten     ***
//
// ----------------------------------------------------------------------------

package pubsub

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"

	"github.com/hashicorp/terraform-provider-google/google/registry"
)

func init() {
	registry.Schema{
		Name:        "google_pubsub_subscription",
		ProductName: "pubsub",
		Type:        registry.SchemaTypeDataSource,
		Schema:      DataSourceGooglePubsubSubscription(),
	}.Register()
}

func DataSourceGooglePubsubSubscription() *schema.Resource {
	return &schema.Resource{
		Schema: map[string]*schema.Schema{
			"name": {Type: schema.TypeString, Required: true, ForceNew: true},
			"only_in_the_data_source": {Type: schema.TypeString, Computed: true, ForceNew: true},
		},
	}
}
