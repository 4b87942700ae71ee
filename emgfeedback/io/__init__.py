"""Getting samples in: pure decoders, sources (serial, simulated, replay), the acquisition thread."""
