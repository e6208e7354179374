enum _PlaceholderRelayHTTP {}
