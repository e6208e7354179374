enum _PlaceholderRelayEngine {}
