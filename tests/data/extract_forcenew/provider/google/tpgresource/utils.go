// Fixture: the merge helper the IAM resources use (the extractor knows its meaning).

package tpgresource

import "github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"

func MergeSchemas(a, b map[string]*schema.Schema) map[string]*schema.Schema {
	merged := make(map[string]*schema.Schema)
	for k, v := range a {
		merged[k] = v
	}
	for k, v := range b {
		merged[k] = v
	}
	return merged
}
