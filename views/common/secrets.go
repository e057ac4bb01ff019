package common

import (
	"context"
	"time"
)

// SecretInfo is a secret as nest shows it: never its value.
type SecretInfo struct {
	// Name is the secret's name.
	Name string
	// Size is the value's length in bytes.
	Size int
	// Created is when it was created.
	Created time.Time
	// Labels are the user's labels.
	Labels map[string]string
	// UsedBy lists the containers whose bundles name it.
	UsedBy []string
	// Error says why its file cannot be read; empty when it can.
	Error string
}

// SecretBackend is a Backend that manages the node's secrets. The Secrets
// view uses it when the Backend implements it (it is separate from Backend
// so that views' own test backends need not implement it).
type SecretBackend interface {
	// Secrets lists the secrets, sorted by name.
	Secrets(ctx context.Context) ([]SecretInfo, error)
	// CreateSecret seals value as a new secret.
	CreateSecret(ctx context.Context, name string, value []byte) error
	// InspectSecret authenticates one secret and returns its metadata.
	InspectSecret(ctx context.Context, name string) (SecretInfo, error)
	// RemoveSecret deletes one; force removes it even while running containers use it.
	RemoveSecret(ctx context.Context, name string, force bool) error
}
