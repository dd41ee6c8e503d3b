package pubsub

// Test files are never read: this registration must be ignored.
func init() {
	registry.Schema{
		Name:   "google_pubsub_subscription",
		Type:   registry.SchemaTypeResource,
		Schema: somethingElse(),
	}.Register()
}
