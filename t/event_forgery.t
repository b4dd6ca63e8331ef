#!/usr/bin/perl

# Client tokens are not webhook signatures.  A JWT's signature is
# HMAC-SHA256(key, "header.payload") and a webhook's ce-signature is
# "sha256=" + hex HMAC-SHA256(key, ce-connectionId), with the same key: so
# whoever holds any token signed with the resource's key can send
# "ce-connectionId: header.payload" with "ce-signature: sha256=<hex of the
# token's third part>", and the signature is right.  The gateway must refuse
# a connection id shaped like a JWT (two base64url parts, the first of which
# decodes to a JSON object) with 401 before the app sees it, and must still
# let through the connection ids the service really uses.
#
# The tokens come from everything that signs with the key: the module's
# negotiate endpoint (webpubsub_token, every protocol), webpubsub_rest
# generate_client_token (answered by the recording stand-in of the service),
# the REST Bearer tokens the module and the official SDK send to the
# service, and the SDK's getClientAccessToken (t/oracle/forgery_tokens.js).
# The forged signature is recomputed here with Digest::SHA.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use MIME::Base64 qw(encode_base64);
use WebPubSub::Nginx;
use WebPubSub::EventApp;
use RestRecorder;

my $KEY = 'forgery-key-0123456789';
my $HUB = 'chat';

my $t = WebPubSub::Nginx->new();
my $app_port = $t->port(1);
my $rec = RestRecorder->start($t, port => 2, keys => [$KEY]);
my $ORIGIN = $rec->origin;

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    webpubsub_endpoint $ORIGIN;
    webpubsub_access_key $KEY;
    webpubsub_hub $HUB;

    log_format refusals '\$status \$webpubsub_error';

    upstream app {
        server 127.0.0.1:%%PORT_1%%;
    }

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location /eventhandler/ {
            webpubsub_event_handler on;
            access_log %%TESTDIR%%/refusals.log refusals;
            proxy_pass http://app;
        }

        location = /negotiate {
            webpubsub_token;
        }

        location = /negotiate/full {
            webpubsub_token_user_id alice;
            webpubsub_token_roles webpubsub.joinLeaveGroup.lobby
                                  webpubsub.sendToGroup;
            webpubsub_token_groups lobby;
            webpubsub_token_ttl 5m;
            webpubsub_token;
        }

        location = /negotiate/mqtt {
            webpubsub_token_user_id device-01;
            webpubsub_token_protocol mqtt;
            webpubsub_token;
        }

        location = /negotiate/socketio {
            webpubsub_token_user_id sio-user;
            webpubsub_token_protocol socketio;
            webpubsub_token;
        }

        location /_wps/ {
            internal;
            proxy_pass $ORIGIN;
        }

        location = /rest/token {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest generate_client_token user=alice
                                                 role=webpubsub.sendToGroup
                                                 group=lobby;
        }

        location = /rest/token/mqtt {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest generate_client_token user=device-01
                                                 protocol=mqtt;
        }

        location = /rest/exists {
            webpubsub_rest_pass /_wps/;
            webpubsub_rest connection_exists connection=c1;
        }
    }
}
EOF

my $app = WebPubSub::EventApp->start($t, $app_port, $HUB, quiet => 1);
$t->run();

my $json = JSON::PP->new->utf8->canonical;

sub app_log { $app->log() }

sub arrivals_of { $app->arrivals_of(@_) }

sub sig {
    my ($conn) = @_;
    return 'sha256=' . hmac_sha256_hex($KEY, $conn);
}

# the headers the service sends with an event, with the signature given
sub event_headers {
    my ($conn, $signature, $type) = @_;
    $type //= 'azure.webpubsub.sys.connected';
    (my $name = $type) =~ s/^azure\.webpubsub\.(sys|user)\.//;
    return {
        'WebHook-Request-Origin' => '127.0.0.1',
        'ce-specversion' => '1.0',
        'ce-awpsversion' => '1.0',
        'ce-type' => $type,
        'ce-source' => "/hubs/$HUB/client/$conn",
        'ce-id' => '1',
        'ce-time' => '2026-11-29T10:00:00Z',
        'ce-signature' => $signature,
        'ce-connectionId' => $conn,
        'ce-hub' => $HUB,
        'ce-eventName' => $name,
        'ce-userId' => 'mallory',
        'Content-Type' => $type =~ /\.user\./
            ? 'text/plain' : 'application/json; charset=utf-8',
    };
}

my %BODY = (
    'azure.webpubsub.sys.connect' => $json->encode({
        claims => {}, query => {}, headers => {}, subprotocols => [],
        clientCertificates => [] }),
    'azure.webpubsub.sys.connected' => '{}',
    'azure.webpubsub.sys.disconnected' => '{"reason":""}',
    'azure.webpubsub.user.message' => 'hello',
);

sub post_event {
    my ($conn, $signature, $type) = @_;
    $type //= 'azure.webpubsub.sys.connected';
    return $t->request('POST', '/eventhandler/',
        headers => event_headers($conn, $signature, $type),
        body => $BODY{$type});
}

# A token as an attacker uses it: ce-connectionId is its signing input,
# ce-signature the hex of its signature.  Also checks, independently of
# the module, that this really is a valid signature of that id.
sub forgery {
    my ($token) = @_;
    my @part = split /\./, $token // '', -1;
    return () unless @part == 3;
    my $conn = "$part[0].$part[1]";
    my $hex = unpack('H*', eval { b64url_decode($part[2]) } // '');
    return ($conn, "sha256=$hex", $hex, $part[2]);
}

###############################################################################
# The tokens

my %tokens;     # name => token

sub json_token {
    my ($r) = @_;
    my $data = eval { $json->decode($r->{content}) } // {};
    return $data->{token};
}

# (1) the negotiate endpoint
for my $loc (qw(/negotiate /negotiate/full /negotiate/mqtt
                /negotiate/socketio)) {
    $tokens{"webpubsub_token $loc"} = json_token($t->get($loc));
}

# (2) webpubsub_rest generate_client_token: the service's answer
$tokens{'generate_client_token'} =
    json_token($t->request('POST', '/rest/token'));
$tokens{'generate_client_token mqtt'} =
    json_token($t->request('POST', '/rest/token/mqtt'));

# (3) the REST Bearer tokens nginx sends to the service
my $from = $rec->count;
$t->get('/rest/exists');
$t->request('POST', '/rest/token');
my @bearers = map { ($_->{headers}{authorization} // '') =~ /^Bearer (\S+)$/ }
    $rec->entries($from);
@tokens{'REST Bearer of connection_exists',
        'REST Bearer of generate_client_token'} = @bearers;

# (4) the SDK: getClientAccessToken with the same key ...
my $cs = "Endpoint=$ORIGIN;AccessKey=$KEY;Version=1.0;";
my @sdk_cases = (
    {},
    { userId => 'alice', roles => ['webpubsub.sendToGroup'],
      groups => ['lobby'], expirationTimeInMinutes => 5 },
    { userId => 'device-01', clientProtocol => 'mqtt' },
    { userId => 'sio-user', clientProtocol => 'socketio' },
);
my $sdk_out = do {
    my $arg = $json->encode({ connectionString => $cs, hub => $HUB,
                              cases => \@sdk_cases });
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        exec($ENV{TEST_NODE} // 'node',
            "$FindBin::Bin/oracle/forgery_tokens.js", $arg) or exit 127;
    }
    my $text = '';
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm(30);
        local $/;
        $text = <$fh> // '';
        alarm(0);
        1;
    };
    alarm(0);
    kill 'KILL', $pid unless $ok;
    close $fh;
    eval { $json->decode($text) } // [];
};
my @sdk_names = ('SDK getClientAccessToken', 'SDK getClientAccessToken full',
    'SDK getClientAccessToken mqtt', 'SDK getClientAccessToken socketio');
@tokens{@sdk_names} = map { $_->{token} } @$sdk_out;

# ... and the Bearer token the SDK itself sends to the service
my ($sdk_rest) = eval {
    $rec->oracle({ endpoint => $ORIGIN, key => $KEY, hub => $HUB,
                   op => 'connection_exists',
                   params => { connection => 'c1' } });
};
my $sdk_req = $sdk_rest ? $rec->by_request_id->{
    $sdk_rest->{requests}[0]{client_request_id} // '' } : undef;
($tokens{'SDK REST Bearer'}) =
    (($sdk_req // {})->{headers}{authorization} // '') =~ /^Bearer (\S+)$/;

my @names = sort keys %tokens;
my @types = ('azure.webpubsub.sys.connected', 'azure.webpubsub.user.message');
my @all_types = sort keys %BODY;

my @good_ids = (
    # Web PubSub connection ids are opaque: the usual shapes of random ids,
    # 43 base64url characters (32 bytes), 32 hex digits, a UUID, and ids
    # holding - and _
    'Gx7yQd3H0wz5W6tr1kVbcQ8lbS1MqQzB3-y7v_4hNkE',
    '0f4c1b5a8e2d4e7f9a6b3c2d1e0f9a8b',
    'e5a0f1c2-83b4-4d6e-9f70-a1b2c3d4e5f6',
    'conn_with-dash_and_under',
    # MQTT: ce-connectionId is the client's own MQTT client id ("The client
    # ID in the MQTT protocol", reference-mqtt-cloud-events on
    # learn.microsoft.com), so any string a device picks
    'device-01',
    'sensor.kitchen.1',
    'a.b',
    'client1',
    # Socket.IO: the Web PubSub for Socket.IO extension makes the Engine.IO
    # sid equal to the Web PubSub connection id
    # (Azure/azure-webpubsub, sdk/webpubsub-socketio-extension/src/EIO/
    # components/web-pubsub-connection-manager.ts), so these are Web PubSub
    # ids as above.  No concrete id of that service was found published;
    # an Engine.IO-style 20-character sid is used as well, the example of
    # the Engine.IO protocol document (socketio/engine.io-protocol).
    'lv_VI97HAXpY6yYWAAAC',
    # near misses of the JWT shape: must pass
    'eyJhIjoxfQ',                   # {"a":1} alone, no dot
    'eyJhIjoxfQ.eyJhIjoxfQ.c2ln',   # three parts: no token signs that
    'eyJ9.eyJ9',                    # {"} is not JSON
    'WzFd.e30',                     # [1] is JSON but not an object
    'IjEi.e30',                     # "1" likewise
    'e30',                          # {} without a second part
);

# ids in the JWT shape, signed here with the key: refused although the
# signature is right
my @jwt_shaped = (
    'e30.e30',                                  # {}.{}
    'eyJhbGciOiJub25lIn0.e30',                  # {"alg":"none"}.{}
    b64url_encode('{ "alg" : "HS256" }') . '.' . b64url_encode('{"sub":"x"}'),
    'eyJhIjoxfQ.eyJiIjoyfQ',                    # {"a":1}.{"b":2}
);

$t->plan(5 * @names + @all_types + 2 * @jwt_shaped + 2 + 3 * @good_ids + 3);

###############################################################################
# Forged events from real tokens

my $before = () = app_log();
my (@secrets, @forged_ids);

for my $name (@names) {
    my $token = $tokens{$name};
    my ($conn, $signature, $hex, $b64) = forgery($token);
    ok(defined $conn && $hex eq hmac_sha256_hex($KEY, $conn),
        "$name: the token's signature is the webhook signature of its "
        . 'signing input')
        or diag('token: ' . ($token // 'none'));
    # the signing input too: it carries the token's claims
    push @secrets, grep { defined } $token, $conn, $hex, $b64;
    $conn //= 'none';
    $signature //= 'none';
    push @forged_ids, $conn;

    for my $type (@types) {
        my $r = post_event($conn, $signature, $type);
        is($r->{status}, 401, "$name: forged $type: 401");
        is($r->{content}, '{"error":"ce-connectionId is shaped like a JWT"}',
            "$name: forged $type: the reason");
    }
}

# every event type, from one token
my ($conn0, $sig0) = forgery($tokens{'webpubsub_token /negotiate'});
for my $type (@all_types) {
    is(post_event($conn0 // 'none', $sig0 // 'none', $type)->{status}, 401,
        "forged $type: 401");
}

for my $id (@jwt_shaped) {
    my $r = post_event($id, sig($id));
    is($r->{status}, 401, "JWT-shaped id $id, signed: 401");
    is($r->{content}, '{"error":"ce-connectionId is shaped like a JWT"}',
        "JWT-shaped id $id: the reason");
}

my @after = app_log();
is(scalar @after, $before, 'no forged event reached the app')
    or diag(join("\n", map { $json->encode($_) } @after[$before .. $#after]));
ok(!(grep { arrivals_of($_) } @forged_ids, @jwt_shaped),
    'the app never saw a JWT-shaped connection id');

###############################################################################
# Genuine events with the ids the service uses

for my $id (@good_ids) {
    my $r = post_event($id, sig($id));
    is($r->{status}, 200, "genuine connected of $id: 200");
    ok(scalar(arrivals_of($id)), "genuine connected of $id: reached the app");
    $r = post_event($id, sig($id), 'azure.webpubsub.user.message');
    is($r->{content}, 'hello', "genuine user event of $id: the app's answer");
}

###############################################################################
# Logs

my $refusals = $t->read_file('refusals.log');
like($refusals, qr/^401 ce-connectionId is shaped like a JWT$/m,
    '$webpubsub_error has the reason');

# nginx's own debug entries (the proxied request's headers) span lines
my @ours = grep { !/^\S+ \S+ \[debug\]/ }
    split /\n(?=\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[)/, $t->error_log();
ok((grep { /\[warn\]/ && /webpubsub/
           && /ce-connectionId is shaped like a JWT/ } @ours),
    'a forged webhook is logged at warn with its reason');
my @leaks;
for my $line (@ours) {
    push @leaks, $line if grep { index($line, $_) >= 0 } @secrets, $KEY;
}
ok(!@leaks, 'no token, its claims, signature or key in error.log above '
    . 'debug level')
    or diag(join("\n", @leaks));

$t->done();
