/**
 * The published trust anchor of AWS Nitro Enclaves: "AWS Nitro Enclaves Root G1"
 * (https://aws-nitro-enclaves.amazonaws.com/AWS_NitroEnclaves_Root-G1.zip). Public data, embedded so
 * verification works offline and in browsers. Its SHA-256 is checked before first use.
 */

/** SHA-256 of the DER of the AWS Nitro Enclaves Root G1 certificate, lowercase hex. */
export const AWS_NITRO_ROOT_G1_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';

/**
 * PEM of the AWS Nitro Enclaves Root G1 certificate
 * (`CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US`, valid 2019-10-28 .. 2049-10-28, P-384).
 *
 * @example
 * ```ts
 * await verifyAttestation(bytes, { trustedRoots: [AWS_NITRO_ROOT_G1_PEM], expectedPcrs }); // same root as the default
 * ```
 */
export const AWS_NITRO_ROOT_G1_PEM = `-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
`;
