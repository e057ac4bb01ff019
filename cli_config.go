package main

import "github.com/budgie-sh/budgie/engine/config"

// loadConfig returns the defaults until configuration loading lands.
func loadConfig(path string) (*config.Config, error) {
	return config.Default(), nil
}
