/**
 * The AWS Signer Notation root certificates, embedded so the verify stage needs no trust-store
 * download, and their pinned SHA-256 fingerprints. The pins are what trust is decided on
 * (`TrustStore.pinnedSha256`); the PEMs are kept so chains can be matched byte for byte too and so a
 * test can prove that the embedded bytes hash to the pins.
 * Source: https://d2hvyiie56hcat.cloudfront.net/aws-signer-notation-root.cert and
 * …/aws-us-gov-signer-notation-root.cert (also in nirmata/kyverno-notation-aws configs/samples/truststore.yaml);
 * https://docs.aws.amazon.com/signer/latest/developerguide/image-verification.html
 */

/** Store name the AWS Signer installer provisions for the commercial partition. */
export const AWS_SIGNER_TRUST_STORE_NAME = 'aws-signer-ts';
/** Store name for the AWS GovCloud (US) partition. */
export const AWS_US_GOV_SIGNER_TRUST_STORE_NAME = 'aws-us-gov-signer-ts';

/** SHA-256 of `AWS Signer Code Signing Root CA G1` (commercial), lower-case hex. */
export const AWS_SIGNER_ROOT_SHA256 = '90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f';
/** SHA-256 of `AWS Signer Code Signing GovCloud (US) Root CA G1`, lower-case hex. */
export const AWS_US_GOV_SIGNER_ROOT_SHA256 =
  '673653ab76f41a10546cdeb4107ecd6df2c15c2c9a0d32ed97d271b4436fc3e8';

/** `CN=AWS Signer Code Signing Root CA G1, ST=WA, OU=Cryptography, O=AWS, C=US`; EC P-384; 2022-10-27 → 2122-10-27. */
export const AWS_SIGNER_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICWTCCAd6gAwIBAgIRAMq5Lmt4rqnUdi8qM4eIGbYwCgYIKoZIzj0EAwMwbDEL
MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5
MQswCQYDVQQIDAJXQTErMCkGA1UEAwwiQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg
Um9vdCBDQSBHMTAgFw0yMjEwMjcyMTMzMjJaGA8yMTIyMTAyNzIyMzMyMlowbDEL
MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5
MQswCQYDVQQIDAJXQTErMCkGA1UEAwwiQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg
Um9vdCBDQSBHMTB2MBAGByqGSM49AgEGBSuBBAAiA2IABM9+dM9WXbVyNOIP08oN
IQW8DKKdBxP5nYNegFPLfGP0f7+0jweP8LUv1vlFZqVDep5ONus9IxwtIYBJLd36
5Q3Z44Xnm4PY/wSI5xRvB/m+/B2PHc7Smh0P5s3Dt25oVKNCMEAwDwYDVR0TAQH/
BAUwAwEB/zAdBgNVHQ4EFgQUONhd3abPX87l4YWKxjysv28QwAYwDgYDVR0PAQH/
BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYCMQCd32GnYU2qFCtKjZiveGfs+gCBlPi2
Hw0zU52LXIFC2GlcvwcekbiM6w0Azlr9qvMCMQDl4+Os0yd+fVlYMuovvxh8xpjQ
NPJ9zRGyYa7+GNs64ty/Z6bzPHOKbGo4In3KKJo=
-----END CERTIFICATE-----
`;

/** `CN=AWS Signer Code Signing GovCloud (US) Root CA G1, ST=WA, OU=Cryptography, O=AWS, C=US`; EC P-384; 2024-03-06 → 2124-03-07. */
export const AWS_US_GOV_SIGNER_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICdDCCAfqgAwIBAgIRANXkpKrZj0L324qGaqRhW/cwCgYIKoZIzj0EAwMwejEL
MAkGA1UEBhMCVVMxDDAKBgNVBAoMA0FXUzEVMBMGA1UECwwMQ3J5cHRvZ3JhcGh5
MQswCQYDVQQIDAJXQTE5MDcGA1UEAwwwQVdTIFNpZ25lciBDb2RlIFNpZ25pbmcg
R292Q2xvdWQgKFVTKSBSb290IENBIEcxMCAXDTI0MDMwNjIzMzgyOFoYDzIxMjQw
MzA3MDAzODI4WjB6MQswCQYDVQQGEwJVUzEMMAoGA1UECgwDQVdTMRUwEwYDVQQL
DAxDcnlwdG9ncmFwaHkxCzAJBgNVBAgMAldBMTkwNwYDVQQDDDBBV1MgU2lnbmVy
IENvZGUgU2lnbmluZyBHb3ZDbG91ZCAoVVMpIFJvb3QgQ0EgRzEwdjAQBgcqhkjO
PQIBBgUrgQQAIgNiAARog54ObzWaGU6fAOcL4Af+P93l2t8Dl9hVD2n0eSSfmPq1
3jtXgjcpXZIjMfoiWQPJTvyAB3opRyvO3grvUaWxRnjtwB/Pusj4tzhnaN+b80eJ
iRn6AzrI9vBssd1ZyRKjQjBAMA8GA1UdEwEB/wQFMAMBAf8wHQYDVR0OBBYEFJF4
zoYzTyn/5s8EleoNvek9QeE6MA4GA1UdDwEB/wQEAwIBhjAKBggqhkjOPQQDAwNo
ADBlAjEA8tcKeLPxBB0mRmfkJn5+hgYxZaRGQatO5mxmjkB/DNIfJ1WeEE3tbCHr
pNJL32FUAjBQY82UNV5yJrKFHOxuiQ+athQZUHLvWvAIXKExt9wvLdtKzfpag8BI
o2A2A4nk0jk=
-----END CERTIFICATE-----
`;
