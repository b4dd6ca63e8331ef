#!/usr/bin/perl

# Entra ID fetches under a background subrequest (mirror): a waited
# subrequest there never becomes the connection's active request, and its
# connection would never be closed.  The module refuses such a fetch with
# one error line (the mirror's answer is thrown away anyway); the client's
# own request is answered and its connection closed at once.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time);
use WebPubSub::Nginx;

my $t = WebPubSub::Nginx->new();

$t->write_conf(<<'EOF');
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_0%%;

        webpubsub_endpoint        http://127.0.0.1:%%PORT_1%%;
        webpubsub_credential      managed_identity;
        webpubsub_credential_pass /_identity;
        webpubsub_rest_pass       /_wps;
        webpubsub_hub             chat;

        location = /hook {
            mirror /m-event;
            proxy_pass http://127.0.0.1:%%PORT_0%%/alive;
        }

        location = /neg {
            mirror /m-neg;
            proxy_pass http://127.0.0.1:%%PORT_0%%/alive;
        }

        location = /m-event {
            internal;
            webpubsub_event_handler   on;
            webpubsub_allowed_origins 127.0.0.1;
            webpubsub_event_auth      entra tenant_id=t audience=api://a;
            webpubsub_event_auth_pass /_keys;
            proxy_pass http://127.0.0.1:%%PORT_0%%/alive;
        }

        location = /m-neg {
            internal;
            webpubsub_token;
        }

        location = /_keys {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /_identity {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /_wps {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /alive {
            return 200 "alive";
        }
    }
}
EOF

$t->run();
$t->plan(6);

# an RS256-shaped token with a kid: the gate goes as far as the keys
my $bearer = b64url_encode('{"alg":"RS256","typ":"JWT","kid":"k1"}')
    . '.' . b64url_encode('{}') . '.' . b64url_encode('sig');

my %event = (
    'ce-specversion' => '1.0', 'ce-awpsversion' => '1.0',
    'ce-type' => 'azure.webpubsub.sys.connected', 'ce-id' => '1',
    'ce-source' => '/hubs/chat/client/c1', 'ce-time' => '2026-01-01T00:00:00Z',
    'ce-hub' => 'chat', 'ce-connectionId' => 'c1', 'ce-userId' => 'u1',
    'ce-eventName' => 'connected', 'WebHook-Request-Origin' => '127.0.0.1',
    'Content-Type' => 'application/json',
    'Authorization' => "Bearer $bearer",
);

# the reply, and how long until nginx closed the connection
sub timed {
    my ($request) = @_;
    my $start = time();
    my $reply = $t->http($request, timeout => 8) // '';
    return ($reply, time() - $start);
}

my $headers = join '', map { "$_: $event{$_}\r\n" } sort keys %event;

my ($reply, $secs) = timed("POST /hook HTTP/1.1\r\nHost: localhost\r\n"
    . $headers . "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
like($reply, qr{\AHTTP/1\.1 200 .*alive\z}s,
    'a webhook mirrored to a gate with webpubsub_event_auth: answered');
cmp_ok($secs, '<', 4, 'and its connection closed at once');

($reply, $secs) = timed("GET /neg HTTP/1.1\r\nHost: localhost\r\n"
    . "Connection: close\r\n\r\n");
like($reply, qr{\AHTTP/1\.1 200 .*alive\z}s,
    'a request mirrored to negotiate without a key: answered');
cmp_ok($secs, '<', 4, 'and its connection closed at once');

my $log = $t->read_file('error.log');
like($log, qr/\[error\] .*webpubsub: the signing keys of webpubsub_event_auth in \S+:\d+ cannot be fetched for a background subrequest \(mirror\)/,
    'the gate under the mirror: one error line');
like($log, qr/\[error\] .*webpubsub: a token without an access key cannot be made for a background subrequest \(mirror\)/,
    'negotiate under the mirror: one error line');

$t->done();
