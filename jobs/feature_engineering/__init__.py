"""Feature engineering: raw table -> named, versioned training and testing datasets."""
