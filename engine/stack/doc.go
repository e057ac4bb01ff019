// Package stack starts and stops groups of containers that depend on each
// other (a bundle's containers: list, or several bundles on one run): in
// topological order of depends_on, independent containers in parallel,
// each waiting until its dependencies reach their condition (started,
// healthy or completed_successfully), and stops them in reverse order.
package stack
