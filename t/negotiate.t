#!/usr/bin/perl

# The negotiate endpoint (webpubsub_token) and the token variables: status,
# headers, JSON shape, claims, and awkward values.  Tokens are decoded and
# their HMACs recomputed here, independently of the module.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

$t->write_file('key.txt', "file-key-123\n");

$t->write_conf(<<'EOF');
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    webpubsub_connection_string
        "Endpoint=http://localhost;Port=8080;AccessKey=abc;Version=1.0;";

    server {
        listen 127.0.0.1:%%PORT_0%%;

        webpubsub_hub chat;

        location = /basic {
            webpubsub_token;
        }

        # "if" keeps the location's handler, "limit_except" is given it
        location = /blocks {
            webpubsub_token_user_id in-block;
            webpubsub_token;
            if ($arg_x) {
                add_header X-If yes always;
            }
            limit_except GET {
                allow all;
            }
        }

        location = /smuggled {
            return 200 "SMUGGLED";
        }

        location = /last {
            return 200 "LAST";
        }

        location = /full {
            webpubsub_token_user_id user1;
            webpubsub_token_roles webpubsub.joinLeaveGroup.room1;
            webpubsub_token_groups room1;
            webpubsub_token;
        }

        # the user id is the decoded path: any byte but NUL can reach it
        location ~ ^/user/(?<u>.*)$ {
            webpubsub_token_user_id $u;
            webpubsub_token;
        }

        location = /header-user {
            webpubsub_token_user_id $http_x_user;
            webpubsub_token_roles $http_x_role1 fixed.role $http_x_role2;
            webpubsub_token_groups $http_x_group $http_x_group2;
            webpubsub_token;
        }

        location = /ttl {
            webpubsub_token_ttl 5m;
            webpubsub_token;
        }

        location = /mqtt {
            webpubsub_token_protocol mqtt;
            webpubsub_token;
        }

        location = /socketio {
            webpubsub_token_protocol socketio;
            webpubsub_token_user_id sio-user;
            webpubsub_token;
        }

        location = /hub {
            webpubsub_hub $arg_hub;
            webpubsub_token;
        }

        location = /vars {
            webpubsub_token_user_id v-user;
            add_header X-Token $webpubsub_token;
            return 200 "$webpubsub_client_url";
        }

        location = /vars-bad-hub {
            webpubsub_hub $arg_hub;
            return 200 "[$webpubsub_token][$webpubsub_client_url]";
        }

        location = /keys {
            webpubsub_endpoint http://localhost:8080;
            webpubsub_access_key second-key;
            webpubsub_access_key third-key;
            webpubsub_token;
        }

        location = /keyfile {
            webpubsub_endpoint https://Contoso.WebPubSub.Azure.com/base;
            webpubsub_access_key_file %%TESTDIR%%/key.txt;
            webpubsub_access_key other;
            webpubsub_token;
        }

        # the token made in the first location must not follow the request
        location = /rewrite {
            webpubsub_token_user_id first-location;
            set $early $webpubsub_token;
            rewrite ^ /full last;
        }

        location = /conn-then-key {
            webpubsub_access_key extra-first-line;
            webpubsub_connection_string
                "Endpoint=https://h.example:8443;AccessKey=cs-key";
            webpubsub_token;
        }
    }
}
EOF

$t->run();
$t->plan(106);

my $json = JSON::PP->new->utf8;

sub negotiate {
    my ($path, %o) = @_;
    my $r = $t->request($o{method} // 'GET', $path, %o);
    my $body = eval { $json->decode($r->{content}) };
    return ($r, $body);
}

sub claims_of {
    my ($token) = @_;
    my ($h, $p) = jwt_decode($token);
    return ($h, $p);
}

# --- the basic response --------------------------------------------------

my ($r, $b) = negotiate('/basic');
is($r->{status}, 200, 'basic: 200');
is($r->{headers}{'content-type'}, 'application/json', 'basic: JSON type');
is($r->{headers}{'cache-control'}, 'no-store', 'basic: no-store');
is_deeply([sort keys %$b], [qw(baseUrl token url)], 'basic: members');
is($b->{baseUrl}, 'ws://localhost:8080/client/hubs/chat', 'basic: baseUrl');
is($b->{url}, "$b->{baseUrl}?access_token=$b->{token}", 'basic: url');
ok(jwt_verify_hs256($b->{token}, 'abc'), 'basic: signed with the key');
ok(!jwt_verify_hs256($b->{token}, 'abd'), 'basic: not with another key');

my ($h, $p) = claims_of($b->{token});
is_deeply($h, { alg => 'HS256', typ => 'JWT' }, 'basic: JWT header');
is($p->{aud}, 'http://localhost:8080/client/hubs/chat', 'basic: aud');
is($p->{exp} - $p->{iat}, 3600, 'basic: default ttl is 1h');
ok(abs($p->{iat} - time()) <= 5, 'basic: iat is now');
ok(!exists $p->{sub}, 'basic: anonymous has no sub');
ok(!exists $p->{role}, 'basic: no role claim');
ok(!exists $p->{'webpubsub.group'}, 'basic: no group claim');

($r, $b) = negotiate('/basic', method => 'POST', body => 'ignored',
    headers => { 'Content-Type' => 'text/plain' });
is($r->{status}, 200, 'POST is allowed');
ok(jwt_verify_hs256($b->{token}, 'abc'), 'POST: valid token');

for my $m (qw(PUT DELETE PATCH HEAD OPTIONS)) {
    $r = $t->request($m, '/basic');
    is($r->{status}, 405, "$m: 405");
}
$r = $t->request('PUT', '/basic');
is($r->{headers}{allow}, 'GET, POST', '405 names the allowed methods');

# the body of a refused request is read and dropped, never parsed as the
# next request on the connection
my $inner = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
my $raw = $t->http("PUT /basic HTTP/1.1\r\nHost: x\r\n"
    . 'Content-Length: ' . length($inner) . "\r\n\r\n$inner"
    . "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
like($raw, qr/^HTTP\/1\.1 405 .*LAST\z/s, '405 then the next real request');
unlike($raw, qr/SMUGGLED/, 'a 405 body is not run as a request');
like($r->{content}, qr/"error":"method not allowed"/, '405 has a reason');

# --- claims --------------------------------------------------------------

($r, $b) = negotiate('/full');
($h, $p) = claims_of($b->{token});
is($p->{sub}, 'user1', 'full: sub');
is_deeply($p->{role}, ['webpubsub.joinLeaveGroup.room1'], 'full: role');
is_deeply($p->{'webpubsub.group'}, ['room1'], 'full: group');
my (undef, $payload_b64) = split /\./, $b->{token};
like(b64url_decode($payload_b64),
    qr/^\{"role":\[.*\],"webpubsub\.group":\[.*\],"iat":\d+,"exp":\d+,"aud":"[^"]+","sub":"user1"\}\z/,
    'full: claims in the order jsonwebtoken writes them');

($r, $b) = negotiate('/header-user', headers => {
    'X-User' => 'alice', 'X-Role2' => 'r2', 'X-Group2' => 'g2' });
($h, $p) = claims_of($b->{token});
is($p->{sub}, 'alice', 'variable user id');
is_deeply($p->{role}, ['fixed.role', 'r2'], 'empty role expansions dropped');
is_deeply($p->{'webpubsub.group'}, ['g2'], 'empty group expansions dropped');

($r, $b) = negotiate('/header-user');
($h, $p) = claims_of($b->{token});
ok(!exists $p->{sub}, 'empty user id: no sub');
ok(!exists $p->{'webpubsub.group'}, 'all groups empty: no group claim');
is_deeply($p->{role}, ['fixed.role'], 'static role kept');

# awkward user ids: quotes, backslashes, control characters, non-ASCII,
# bytes that are not UTF-8 (each becomes U+FFFD), markup, 700 bytes
my @awkward = (
    [ 'q"uo\\te', 'quotes', 'q%22uo%5Cte' ],
    [ "tab\tctl\x01\x1f", 'controls', 'tab%09ctl%01%1F' ],
    [ "caf\x{e9} \x{4e16}\x{1f600}", 'utf8',
      'caf%C3%A9%20%E4%B8%96%F0%9F%98%80' ],
    [ "bad\x{fffd}utf8\x{fffd}", 'bad-utf8', 'bad%FFutf8%C3' ],
    [ 'x' x 700, '700 bytes', 'x' x 700 ],
    [ '</script><b>', 'markup', '%3C/script%3E%3Cb%3E' ],
);

for my $a (@awkward) {
    my ($want, $name, $path) = @$a;
    ($r, $b) = negotiate("/user/$path");
    is($r->{status}, 200, "user id $name: 200");
    ok(defined $b, "user id $name: body is valid JSON");
    ok(jwt_verify_hs256($b->{token} // '', 'abc'),
        "user id $name: token verifies");
    ($h, $p) = eval { claims_of($b->{token}) };
    is($p->{sub}, $want, "user id $name: sub");
}

($r, $b) = negotiate('/user/' . ('y' x 4097));
is($r->{status}, 400, 'user id over 4096 bytes: 400');
like($r->{content}, qr/user id longer than 4096 bytes/,
    'user id too long: reason');

($r, $b) = negotiate('/ttl');
($h, $p) = claims_of($b->{token});
is($p->{exp} - $p->{iat}, 300, 'webpubsub_token_ttl 5m');

# --- protocols -----------------------------------------------------------

($r, $b) = negotiate('/mqtt');
is($b->{baseUrl}, 'ws://localhost:8080/clients/mqtt/hubs/chat',
    'mqtt: baseUrl');
($h, $p) = claims_of($b->{token});
is($p->{aud}, 'http://localhost:8080/clients/mqtt/hubs/chat', 'mqtt: aud');

($r, $b) = negotiate('/socketio');
is_deeply([sort keys %$b], [qw(endpoint path token)], 'socketio: members');
is($b->{endpoint}, 'http://localhost:8080', 'socketio: endpoint');
is($b->{path}, '/clients/socketio/hubs/chat', 'socketio: path');
($h, $p) = claims_of($b->{token});
is($p->{aud}, 'http://localhost:8080/clients/socketio/hubs/chat',
    'socketio: aud');
is($p->{sub}, 'sio-user', 'socketio: sub');
ok(jwt_verify_hs256($b->{token}, 'abc'), 'socketio: token verifies');

# --- hubs from variables -------------------------------------------------

($r, $b) = negotiate('/hub?hub=My_Hub.1');
is($r->{status}, 200, 'variable hub: 200');
is($b->{baseUrl}, 'ws://localhost:8080/client/hubs/My_Hub.1',
    'variable hub: case kept, as the SDKs keep it');

for my $bad ('', '1chat', 'a%20b', 'a/b', 'x' x 129, 'caf%C3%A9') {
    ($r, $b) = negotiate("/hub?hub=$bad");
    my $shown = length($bad) > 20 ? substr($bad, 0, 20) . '...' : $bad;
    is($r->{status}, 400, "bad hub '$shown': 400");
    like($b->{error} // '', qr/^invalid hub name: /,
        "bad hub '$shown': reason");
}

# --- variables -----------------------------------------------------------

$r = $t->request('GET', '/vars');
is($r->{status}, 200, 'variables: 200');
my $url = $r->{content};
my $token = $r->{headers}{'x-token'} // '';
is($url, "ws://localhost:8080/client/hubs/chat?access_token=$token",
    'variables: the URL carries the same token as $webpubsub_token');
($h, $p) = claims_of($token);
is($p->{sub}, 'v-user', 'variables: claims from the location');
ok(jwt_verify_hs256($token, 'abc'), 'variables: token verifies');

$r = $t->request('GET', '/vars-bad-hub?hub=-');
is($r->{content}, '[][]', 'variables: empty when the hub is invalid');

# --- keys ----------------------------------------------------------------

($r, $b) = negotiate('/keys');
ok(jwt_verify_hs256($b->{token}, 'second-key'),
    'keys: the first webpubsub_access_key of the level signs');
ok(!jwt_verify_hs256($b->{token}, 'abc'),
    'keys: a level with keys and endpoint inherits no key');

($r, $b) = negotiate('/keyfile');
ok(jwt_verify_hs256($b->{token}, 'file-key-123'),
    'key file: signs, trailing newline stripped');
is($b->{baseUrl}, 'wss://contoso.webpubsub.azure.com/base/client/hubs/chat',
    'https endpoint with a path: wss, host lower-cased, path kept');
($h, $p) = claims_of($b->{token});
is($p->{aud}, 'https://contoso.webpubsub.azure.com/base/client/hubs/chat',
    'https endpoint with a path: aud');

($r, $b) = negotiate('/conn-then-key');
ok(jwt_verify_hs256($b->{token}, 'cs-key'),
    'the connection string key signs even after another key line');
is($b->{baseUrl}, 'wss://h.example:8443/client/hubs/chat',
    'non-default port kept');

($r, $b) = negotiate('/rewrite');
($h, $p) = claims_of($b->{token});
is($p->{sub}, 'user1', 'after rewrite ... last, the final location\'s claims');

# --- inside "if" and "limit_except" blocks ------------------------------

for my $case (['an "if" block', 'GET', '/blocks?x=1'],
    ['a "limit_except" block', 'POST', '/blocks'])
{
    my ($name, $method, $path) = @$case;
    ($r, $b) = negotiate($path, method => $method);
    is($r->{status}, 200, "$name: 200");
    ok(jwt_verify_hs256($b->{token} // '', 'abc'), "$name: signed with the key");
    ($h, $p) = ref $b eq 'HASH' && $b->{token} ? claims_of($b->{token})
        : ({}, {});
    is($p->{sub}, 'in-block', "$name: the location's claims");
}

# --- nothing secret in the log -------------------------------------------

my $log = $t->error_log();
unlike($log, qr/\babc\b|second-key|third-key|file-key-123|cs-key/,
    'no access key in error.log (debug level)');
unlike($log, qr/\Q$b->{token}\E/, 'no token in error.log');

$t->done();
