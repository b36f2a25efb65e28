"""NEM (NIS1) protocol helpers: addresses, time, the JSON codec and the node client."""
