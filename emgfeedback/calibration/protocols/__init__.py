"""The MVC test protocols shipped with emgfeedback, one TOML file per test (data, not code)."""
