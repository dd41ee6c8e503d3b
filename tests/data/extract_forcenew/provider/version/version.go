package version

var (
	// ProviderVersion is set during the release process to the release version of the binary
	ProviderVersion = "dev7"
)
