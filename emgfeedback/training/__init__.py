"""Training, pure logic (no Qt): programs as TOML data files, their timeline, the sample-driven runner,
rep success rules, and a simulated athlete who follows a program."""
