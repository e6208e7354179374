enum _PlaceholderProviderSandbox {}
