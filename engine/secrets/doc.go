// Package secrets keeps Budgie's secrets under data_dir/secrets, sealed at
// rest, and hands their values to the runtime, which mounts them into
// containers from a tmpfs.
//
// Each secret is one file, NAME.secret (mode 0600, in a 0700 directory),
// written atomically: a versioned header (magic, format version, the KDF's
// name, iteration count and salt), the secret's metadata (name, creation
// time, size, labels) as JSON, a fresh random 96-bit nonce, and the value
// sealed with AES-256-GCM. The header and the metadata are the GCM
// additional data, so renaming a file or editing its metadata fails
// authentication just as a flipped ciphertext byte does (ErrIntegrity).
//
// The AES key is derived with PBKDF2-HMAC-SHA256 (600,000 iterations, the
// standard library's crypto/pbkdf2) from the node key: 32 random bytes in
// data_dir/secrets/node.key, generated on first use. When a passphrase is
// given as the key is generated (BUDGIE_SECRETS_PASSPHRASE), the node key is
// stored sealed under a key derived from the passphrase, and every later
// use needs the same passphrase. A Store derives each key once and caches it.
package secrets
