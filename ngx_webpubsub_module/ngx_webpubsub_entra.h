
/*
 * Copyright (C) ngx_webpubsub_module authors
 *
 * Microsoft Entra ID without an SDK, the part that needs no network: the
 * RS256 access tokens that a key-less resource's webhooks carry as
 * "Authorization: Bearer", checked against a key of the tenant's JWKS
 * (read by ngx_webpubsub_reply_jwks()), and the client assertions signed
 * with a certificate's key for the token endpoint.  Plain C99 on OpenSSL
 * and jansson, like the rest of the core; refusals are short static
 * strings that never quote the token.
 */


#ifndef _NGX_WEBPUBSUB_ENTRA_H_INCLUDED_
#define _NGX_WEBPUBSUB_ENTRA_H_INCLUDED_


#include "ngx_webpubsub_core.h"
#include "ngx_webpubsub_reply.h"


/* the largest PEM text read for a client certificate and its key */
#define NGX_WEBPUBSUB_PEM_MAX  (1024 * 1024)


/* what a webhook's Entra Bearer token must be */
typedef struct {
    ngx_webpubsub_str_t   issuers[2];  /* accepted iss values, len 0: unused */
    ngx_webpubsub_str_t   audience;    /* aud must equal it */
    ngx_webpubsub_str_t   tenant;      /* tid must equal it, len 0: unchecked */
    ngx_webpubsub_str_t   object_id;   /* oid must equal it, len 0: unchecked */
    int64_t               now;
    int64_t               skew;         /* seconds, 300 */
} ngx_webpubsub_bearer_rules_t;


/* a certificate's RSA key and SHA-256 thumbprint, for client assertions */
typedef struct ngx_webpubsub_cert_s  ngx_webpubsub_cert_t;


/*
 * The kid of an RS256 JWT's header, copied to kid (room for
 * NGX_WEBPUBSUB_JWK_KID_MAX bytes): NULL, or why the token is no RS256
 * JWT at all (alg none, HS256 and every other alg are refused here).
 */
const char *ngx_webpubsub_bearer_kid(const unsigned char *jwt, size_t len,
    unsigned char *kid, size_t *kid_len);

/*
 * The signature with key (whose kid must be the token's), then the
 * claims by rules: NULL if all hold, else why not.
 */
const char *ngx_webpubsub_bearer_verify(const unsigned char *jwt,
    size_t len, const ngx_webpubsub_jwk_t *key,
    const ngx_webpubsub_bearer_rules_t *rules);

/*
 * From PEM text holding a certificate and its unencrypted private key,
 * in either order, as @azure/identity's ClientCertificateCredential
 * takes it (the first certificate is the one named); NULL with *err.
 */
ngx_webpubsub_cert_t *ngx_webpubsub_cert_load(const unsigned char *pem,
    size_t len, const char **err);
void ngx_webpubsub_cert_free(ngx_webpubsub_cert_t *c);

/*
 * A client assertion JWT for the token endpoint aud, signed at now, with
 * a fresh random jti: its length, or 0 on error (dst too small included).
 * dst NULL measures: an upper bound.
 */
size_t ngx_webpubsub_client_assertion(ngx_webpubsub_cert_t *c,
    const ngx_webpubsub_str_t *aud, const ngx_webpubsub_str_t *client_id,
    int64_t now, unsigned char *dst, size_t size);


#endif /* _NGX_WEBPUBSUB_ENTRA_H_INCLUDED_ */
