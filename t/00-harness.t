#!/usr/bin/perl

# Self-test of the test harness t/lib/WebPubSub/Nginx.pm.  Uses plain
# nginx (no module) so that it can run before the module is built.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new(module => 0);

$t->write_conf(<<'EOF');
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;
        server_name localhost;

        location / {
            return 200 "hello";
        }
    }
}
EOF

$t->run();
$t->plan(17);

# Ports are stable per index and distinct across indexes.
is($t->port(0), $t->port(0), 'port(0) is stable');
isnt($t->port(1), $t->port(0), 'port(1) differs from port(0)');

my $r = $t->get('/');
is($r->{status}, 200, 'get status');
is($r->{content}, 'hello', 'get body');

my $raw = $t->http("HEAD / HTTP/1.0\r\nHost: localhost\r\n\r\n");
like($raw, qr{\AHTTP/1\.1 200 OK\r\n}, 'raw HEAD status line');
like($raw, qr{\r\n\r\n\z}, 'raw HEAD has no body');

# Known HS256 vector, signed with key "abc".
my $token = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.'
    . 'eyJyb2xlIjpbIndlYnB1YnN1Yi5qb2luTGVhdmVHcm91cC5yb29tMSJdLCJ3ZWJwdWJzdW'
    . 'IuZ3JvdXAiOlsicm9vbTEiXSwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDM2MDAs'
    . 'ImF1ZCI6Imh0dHA6Ly9sb2NhbGhvc3Q6ODA4MC9jbGllbnQvaHVicy9jaGF0Iiwic3ViIj'
    . 'oidXNlcjEifQ.'
    . 'jrGRD6vRoA0pVLXu2wLTs8kcvCepom6KoafVSxg4odY';

my ($header, $payload) = jwt_decode($token);
is($header->{alg}, 'HS256', 'jwt header alg');
is($payload->{aud}, 'http://localhost:8080/client/hubs/chat', 'jwt aud');
is($payload->{sub}, 'user1', 'jwt sub');
ok(jwt_verify_hs256($token, 'abc'), 'jwt verifies with the right key');
ok(!jwt_verify_hs256($token, 'abd'), 'jwt fails with a wrong key');

# Strict base64url: padding and the standard alphabet are rejected.
ok(!eval { b64url_decode('YWJj=') }, 'b64url_decode rejects padding');
ok(!eval { jwt_decode("$token.x") }, 'jwt_decode rejects 4 parts');

is(hmac_sha256_hex('abc', 'conn1'),
    '1dfafa3c3f4b8f75ebe141d1510faf618d27c0a46b40ad69481a46462422ef64',
    'hmac_sha256_hex vector');

my ($code, $out) = $t->nginx_t(<<'EOF');
%%GLOBALS%%
events { }
http {
    no_such_directive on;
}
EOF
isnt($code, 0, 'nginx -t fails on an unknown directive');
like($out, qr/unknown directive/, 'nginx -t names the problem');

# nginx/1.x, or a fork's own name: Angie/1.x, openresty/1.x
$t->error_log_like(qr{\[notice\] .*(?:nginx|Angie|openresty)/\d},
    'error.log is written');

$t->done();
