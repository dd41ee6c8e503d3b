// Fixture in the shape of a handwritten IAM resource built by the generic IAM code.

// ----------------------------------------------------------------------------
//
//	***     AUTO GENERATED CODE    ***    Type: Handwritten     ***
//
// ----------------------------------------------------------------------------

package pubsub

import (
	"fmt"

	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/hashicorp/terraform-provider-google/google/registry"
	"github.com/hashicorp/terraform-provider-google/google/tpgiamresource"
	"github.com/hashicorp/terraform-provider-google/google/tpgresource"
)

var IamPubsubSubscriptionSchema = map[string]*schema.Schema{
	"subscription": {
		Type:             schema.TypeString,
		Required:         true,
		ForceNew:         true,
		DiffSuppressFunc: tpgresource.CompareSelfLinkOrResourceName,
	},
	"project": {
		Type:     schema.TypeString,
		Optional: true,
		Computed: true,
		ForceNew: true,
	},
}

func PubsubSubscriptionIdParseFunc(d *schema.ResourceData, _ interface{}) error {
	if err := d.Set("subscription", d.Id()); err != nil {
		return fmt.Errorf("Error setting subscription: %s", err)
	}
	return nil
}

func PubsubSubscriptionIamMemberResource() *schema.Resource {
	return tpgiamresource.ResourceIamMember(
		IamPubsubSubscriptionSchema,
		nil,
		PubsubSubscriptionIdParseFunc,
		tpgiamresource.IamWithBatching,
	)
}

func init() {
	registry.Schema{
		Name:        "google_pubsub_subscription_iam_member",
		ProductName: "pubsub",
		Type:        registry.SchemaTypeIAMResource,
		Schema:      PubsubSubscriptionIamMemberResource(),
	}.Register()
}
