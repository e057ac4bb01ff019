// Package models holds Budgie's plain domain types — container specs, listed
// containers, images, volumes and engine events — shared by the engine, the
// CLI and the TUI. It has no behaviour beyond small helpers and imports
// nothing from the rest of Budgie.
package models
