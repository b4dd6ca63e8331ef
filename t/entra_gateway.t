#!/usr/bin/perl

# The event handler gateway on a resource without access keys:
# webpubsub_event_handler with webpubsub_event_auth entra, the tenant's
# signing keys fetched from the local Entra ID stand-in
# (emulator/identity.js) through webpubsub_event_auth_pass, in front of the
# official @azure/web-pubsub-express app (t/fixtures/event_app.js).
#
# Genuine webhooks of the emulator in Entra mode (a Bearer token of its
# managed identity, no ce-signature) reach the app as they are; tokens
# forged with the identity provider's /__token (expired, early, for
# another audience, tenant or issuer, alg none, HS256 over the public key,
# PS256, a key never published, another object id) never do.  A rotated
# key is fetched once; an unknown key id costs one fetch, and a flood of
# them within the minute after it none; keys and Bearer together need
# both; the keys endpoint down gives a 502.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Socket::INET;
use IO::Select;
use JSON::PP;
use HTTP::Tiny;
use POSIX ();
use Time::HiRes qw(sleep time);
use WebPubSub::Nginx;
use WebPubSub::Identity;
use WebPubSub::EventApp;

my $AUD = 'api://gateway-tests';
my $KEY = 'both-key-0123456789';
my $JSON = JSON::PP->new->utf8->canonical;

my $t = WebPubSub::Nginx->new();
my $idp = WebPubSub::Identity->start($t, port => 1, name => 'idp');
my $TENANT = $idp->tenant;
my $system = $idp->system_identity;
my ($user) = @{ $idp->user_identities };

my $app_port = $t->port(2);
my $app = WebPubSub::EventApp->start($t, $app_port, 'chat', quiet => 1);

$t->write_conf(<<"EOF");
%%GLOBALS%%

events {
}

http {
    %%GLOBALS_HTTP%%

    log_format events '\$status \$webpubsub_event_type|\$webpubsub_event_name|'
                      '\$webpubsub_connection_id|\$webpubsub_user_id|'
                      '\$webpubsub_hub "\$webpubsub_error"';

    upstream app {
        server 127.0.0.1:%%PORT_2%%;
        keepalive 4;
    }

    # a resource without access keys
    server {
        listen 127.0.0.1:%%PORT_0%%;

        # room for a Bearer token past the module's bound
        large_client_header_buffers 4 32k;

        webpubsub_endpoint        http://127.0.0.1:%%PORT_3%%;
        webpubsub_credential      managed_identity;
        webpubsub_credential_pass /_identity;
        webpubsub_hub             chat;
        webpubsub_rest_pass       /_webpubsub;
        webpubsub_event_auth_pass /_entra_keys;

        location = /negotiate {
            webpubsub_token_user_id \$arg_user;
            webpubsub_token;
        }

        # a credential of its own, first used at the end
        location = /negotiate-short {
            webpubsub_endpoint      http://127.0.0.1:%%PORT_3%%;
            webpubsub_credential    managed_identity
                                    client_id=$user->{client_id};
            webpubsub_token_user_id short;
            webpubsub_token;
        }

        location /eventhandler/ {
            webpubsub_event_handler on;
            webpubsub_event_auth    entra tenant_id=$TENANT audience=$AUD;
            access_log %%TESTDIR%%/events.log events;

            proxy_http_version      1.1;
            proxy_set_header        Connection "";
            proxy_request_buffering off;
            proxy_set_header X-Event-Type \$webpubsub_event_type;
            proxy_set_header X-Event-Name \$webpubsub_event_name;
            proxy_set_header X-Connection-Id \$webpubsub_connection_id;
            proxy_set_header X-User-Id \$webpubsub_user_id;
            proxy_set_header X-Hub \$webpubsub_hub;
            proxy_pass http://app;
        }

        # the service's own identity only
        location /pinned/ {
            webpubsub_event_handler on;
            webpubsub_event_auth    entra tenant_id=$TENANT audience=$AUD
                                    object_id=$system->{object_id};
            rewrite ^/pinned/(.*)\$ /eventhandler/\$1 break;
            proxy_pass http://app;
        }

        # keys of their own (another authority, the same keys): the key
        # rotation, in a slot that no unknown kid has touched before it
        location /rotated/ {
            webpubsub_event_handler on;
            webpubsub_event_auth    entra tenant_id=$TENANT audience=$AUD
                                    authority=https://rotated.example/;
            rewrite ^/rotated/(.*)\$ /eventhandler/\$1 break;
            proxy_pass http://app;
        }

        # keys of their own (another authority): the flood of unknown key
        # ids, and the keys endpoint down at the first use
        location /flood/ {
            webpubsub_event_handler on;
            webpubsub_event_auth    entra tenant_id=$TENANT audience=$AUD
                                    authority=https://flood.example/;
            rewrite ^/flood/(.*)\$ /eventhandler/\$1 break;
            proxy_pass http://app;
        }

        location /down/ {
            webpubsub_event_handler on;
            webpubsub_event_auth    entra tenant_id=$TENANT audience=$AUD
                                    authority=https://down.example/;
            rewrite ^/down/(.*)\$ /eventhandler/\$1 break;
            proxy_pass http://app;
        }

        location = /_entra_keys {
            internal;
            proxy_set_header X-Fetched-By nginx;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /_identity {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }

        location = /_webpubsub {
            internal;
            proxy_pass http://127.0.0.1:%%PORT_3%%;
        }
    }

    # a resource with an access key whose event handler also checks the
    # Bearer token: both must hold
    server {
        listen 127.0.0.1:%%PORT_4%%;

        webpubsub_connection_string
            "Endpoint=http://127.0.0.1:%%PORT_3%%;AccessKey=$KEY;Version=1.0;";
        webpubsub_hub chat;

        location /eventhandler/ {
            webpubsub_event_handler   on;
            webpubsub_event_auth      entra tenant_id=$TENANT audience=$AUD;
            webpubsub_event_auth_pass /_entra_keys;
            proxy_pass http://app;
        }

        location = /_entra_keys {
            internal;
            proxy_set_header X-Fetched-By nginx;
            proxy_pass http://127.0.0.1:%%PORT_1%%;
        }
    }
}
EOF

$t->run();

my $wps = WebPubSub::Identity::start_emulator($t, idp => $idp, port => 3,
    env => {
        WPS_EVENT_HANDLER    => 'http://127.0.0.1:' . $t->port(0)
                                . '/eventhandler/',
        WPS_WEBHOOK_AUDIENCE => $AUD,
    });

$t->plan(85);

###############################################################################
# helpers

sub app_log { $app->log() }

# the keys fetches nginx made, after the first $from requests of the log
sub key_fetches {
    my ($from) = @_;
    return grep { $_->{kind} eq 'jwks'
                  && ($_->{headers}{'x-fetched-by'} // '') eq 'nginx' }
        $idp->log($from);
}

sub idp_seq { $idp->state->{requests} }

sub event_headers {
    my (%o) = @_;
    my $conn = $o{connection} // 'conn-forged';
    my $type = $o{type} // 'azure.webpubsub.sys.connected';
    (my $name = $type) =~ s/^azure\.webpubsub\.(?:sys|user)\.//;
    my %h = (
        'WebHook-Request-Origin' => '127.0.0.1',
        'ce-specversion' => '1.0',
        'ce-awpsversion' => '1.0',
        'ce-type' => $type,
        'ce-source' => "/hubs/chat/client/$conn",
        'ce-id' => '1',
        'ce-time' => '2026-11-27T10:00:00Z',
        'ce-connectionId' => $conn,
        'ce-hub' => 'chat',
        'ce-eventName' => $name,
        'ce-userId' => 'mallory',
        'Content-Type' => 'application/json',
    );
    $h{Authorization} = "Bearer $o{token}" if defined $o{token};
    $h{Authorization} = $o{authorization} if defined $o{authorization};
    $h{'ce-signature'} = 'sha256=' . hmac_sha256_hex($o{key}, $conn)
        if defined $o{key};
    return \%h;
}

sub webhook {
    my ($path, %o) = @_;
    my $port = delete $o{port};
    return $t->request('POST', $path, headers => event_headers(%o),
        body => '{}', ($port ? (port => $port) : ()));
}

# "status reason" of an answer: the module's {"error":".."}, or the body
sub outcome {
    my ($r) = @_;
    my $b = eval { $JSON->decode($r->{content}) };
    my $what = ref $b eq 'HASH' && defined $b->{error}
        ? $b->{error} : 'body ' . substr($r->{content} // '', 0, 200);
    return "$r->{status} $what";
}

sub mint { $idp->mint({ aud => $AUD, %{ $_[0] // {} } })->{token} }

# one run of the official client through nginx's /negotiate
sub run_client {
    my ($user_id, $event) = @_;
    my $url = $user_id =~ /^ws:/ ? $user_id
        : 'http://127.0.0.1:' . $t->port(0) . "/negotiate?user=$user_id";
    my $err = $t->testdir . '/client.err';
    my $pid = open(my $out, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDERR, '>>', $err);
        exec($ENV{TEST_NODE} // 'node',
            "$FindBin::Bin/fixtures/entra_ws_client.js", $url, $event)
            or POSIX::_exit(127);
    }
    my $text = '';
    my $ok = eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm(30);
        local $/;
        $text = <$out> // '';
        alarm(0);
        1;
    };
    alarm(0);
    kill 'KILL', $pid unless $ok;
    close $out;
    return eval { $JSON->decode($text) }
        // { error => "no result ($text): " . ($@ || "status $?") };
}

# what the service sent to the event handler for a connection, once its
# disconnected event got an answer (5 s at most)
sub service_events_of {
    my ($conn) = @_;
    my @e;
    my $deadline = time() + 5;
    while (1) {
        @e = grep { ($_->{kind} // '') eq 'upstream.event'
                    && ($_->{connectionId} // '') eq $conn }
            $wps->log_entries;
        last if grep { $_->{event} eq 'disconnected'
                       && (defined $_->{status} || defined $_->{error}) } @e;
        last if time() > $deadline;
        sleep(0.02);
    }
    # in the order the service made them: it sends connected without
    # waiting, so a user event's webhook may finish (and be logged) first
    return sort { ($a->{ceId} // 0) <=> ($b->{ceId} // 0) } @e;
}

sub wait_app {
    my ($cond) = @_;
    my $deadline = time() + 5;
    until ($cond->()) {
        return 0 if time() > $deadline;
        sleep(0.02);
    }
    return 1;
}

###############################################################################
# the abuse-protection handshake: nginx answers, no token needed

my $r = $t->request('OPTIONS', '/eventhandler/',
    headers => { 'WebHook-Request-Origin' => '127.0.0.1' });
is($r->{status}, 200, 'OPTIONS without a Bearer token: 200 from nginx');
is($r->{headers}{'webhook-allowed-origin'}, '*', 'and the allowing header');
$r = $t->request('OPTIONS', '/eventhandler/',
    headers => { 'WebHook-Request-Origin' => 'evil.example' });
is($r->{status}, 400, 'OPTIONS from another origin: 400');
ok(!grep({ ($_->{method} // '') eq 'OPTIONS' } app_log()),
    'no handshake reached the app');

###############################################################################
# genuine webhooks: the official client through the emulator

my $from = idp_seq();
my $c = run_client('alice', 'message');
ok(!defined $c->{error} && $c->{connectionId} && $c->{eventAck}
    && $c->{stopped}, 'a client connected, sent an event (acked), stopped')
    or diag(explain($c), $t->read_file('client.err'));
my $conn = $c->{connectionId} // '?';

my ($validate) = grep { ($_->{kind} // '') eq 'upstream.validate' }
    $wps->log_entries;
ok($validate && $validate->{ok},
    'the emulator\'s abuse-protection handshake with nginx succeeded')
    or diag(explain($validate));

my @sent = service_events_of($conn);
is_deeply([ map { ($_->{event} // '?') . ' ' . ($_->{status} // $_->{error}) }
            @sent ],
    [ 'connect 200', 'connected 200', 'message 200', 'disconnected 200' ],
    'the service\'s four webhooks were answered 200')
    or diag(explain(\@sent));

# in the order the service made them (see service_events_of)
my @arrived = sort { ($a->{headers}{'ce-id'} // 0)
                     <=> ($b->{headers}{'ce-id'} // 0) }
    grep { $_->{arrived}
           && ($_->{headers}{'ce-connectionid'} // '') eq $conn }
    app_log();
is_deeply([ map { $_->{headers}{'ce-type'} } @arrived ],
    [ map { "azure.webpubsub.$_" }
      qw(sys.connect sys.connected user.message sys.disconnected) ],
    'the app got connect, connected, the user event and disconnected');
my %handled = map { ($_->{event} // '') => $_ }
    grep { ($_->{connectionId} // '') eq $conn } app_log();
ok($handled{connect} && $handled{connected} && $handled{user}
    && $handled{disconnected}, 'and the express handler took each of them');
is($handled{user}{name} // '', 'message', 'the user event\'s name');

# the headers, as the service sent them
my $ok_headers = 1;
for my $a (@arrived) {
    my $h = $a->{headers};
    my ($tok) = ($h->{authorization} // '') =~ /^Bearer (\S+)\z/;
    my (undef, $cl) = $tok ? eval { jwt_decode($tok) } : ();
    $ok_headers &&= $cl && $cl->{aud} eq $AUD
        && $cl->{oid} eq $system->{object_id}
        && !exists $h->{'ce-signature'}
        && $h->{'ce-specversion'} eq '1.0' && $h->{'ce-awpsversion'} eq '1.0'
        && $h->{'ce-hub'} eq 'chat' && $h->{'ce-userid'} eq 'alice'
        && $h->{'ce-source'} eq "/hubs/chat/client/$conn"
        && defined $h->{'ce-id'} && defined $h->{'ce-time'}
        && defined $h->{'webhook-request-origin'};
}
ok(@arrived == 4 && $ok_headers,
    'each with the service\'s headers: the Bearer token of its identity for '
    . 'the audience, the CloudEvents attributes, no ce-signature')
    or diag(explain(\@arrived));

my ($msg) = grep { $_->{headers}{'ce-type'} eq 'azure.webpubsub.user.message' }
    @arrived;
is_deeply([ map { $msg->{headers}{$_} // '-' }
            qw(x-event-type x-event-name x-connection-id x-user-id x-hub) ],
    [ 'azure.webpubsub.user.message', 'message', $conn, 'alice', 'chat' ],
    'the variables in proxy_set_header');
like($t->read_file('events.log'),
    qr/^200 azure\.webpubsub\.user\.message\|message\|\Q$conn\E\|alice\|chat "-"$/m,
    'the variables in log_format');

my @fetches = key_fetches($from);
is(scalar @fetches, 1, 'the keys were fetched once, at the first webhook')
    or diag(explain(\@fetches));
is($fetches[0] && $fetches[0]{path}, "/$TENANT/discovery/v2.0/keys",
    'from {tenant}/discovery/v2.0/keys');

# the body is left to proxy_pass: the app sees the event before its body
# is complete
{
    my $tok = mint();
    my $h = event_headers(connection => 'conn-stream',
        type => 'azure.webpubsub.user.stream', token => $tok);
    $h->{'Content-Type'} = 'text/plain';
    my $body = 'x' x 20;
    my $head = "POST /eventhandler/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Connection: close\r\nContent-Length: " . length($body) . "\r\n"
        . join('', map { "$_: $h->{$_}\r\n" } sort keys %$h) . "\r\n";
    my $s = IO::Socket::INET->new(Proto => 'tcp', PeerAddr => '127.0.0.1',
        PeerPort => $t->port(0), Timeout => 5);
    local $SIG{PIPE} = 'IGNORE';
    print {$s} $head, substr($body, 0, 10);
    $s->flush;
    ok(wait_app(sub { grep { $_->{arrived}
            && ($_->{headers}{'ce-connectionid'} // '') eq 'conn-stream' }
            app_log() }),
        'a genuine event reaches the app while half of its body is unsent');
    print {$s} substr($body, 10);
    $s->flush;
    my $resp = '';
    my $sel = IO::Select->new($s);
    my $deadline = time() + 5;
    while (time() < $deadline && $sel->can_read($deadline - time())) {
        last unless sysread($s, my $buf, 65536);
        $resp .= $buf;
    }
    close $s;
    like($resp, qr{^HTTP/1\.1 200 .*\r\n\r\n\Q$body\E\z}s,
        'and the whole body came back from the app');
}

# a forged one is refused before its body comes
{
    my $h = event_headers(connection => 'conn-early',
        token => mint({ aud => 'api://another-app' }));
    my $head = "POST /eventhandler/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        . "Content-Length: 100000\r\n"
        . join('', map { "$_: $h->{$_}\r\n" } sort keys %$h) . "\r\n";
    my $s = IO::Socket::INET->new(Proto => 'tcp', PeerAddr => '127.0.0.1',
        PeerPort => $t->port(0), Timeout => 5);
    print {$s} $head;
    $s->flush;
    my $resp = '';
    my $sel = IO::Select->new($s);
    my $deadline = time() + 5;
    while (time() < $deadline && $resp !~ /\r\n\r\n.*\}/s
           && $sel->can_read($deadline - time()))
    {
        last unless sysread($s, my $buf, 65536);
        $resp .= $buf;
    }
    close $s;
    like($resp, qr{^HTTP/1\.1 401 .*\r\n\r\n\{"error":"the Bearer token's audience is not the configured one"\}}s,
        'a forged event is answered 401 with none of its body sent');
}

###############################################################################
# forged tokens

my %kid = (current => $idp->state->{kids}[0]);

my @forged = (
    [ 'expired beyond the skew', { exp_in => -360 },
      'the Bearer token has expired' ],
    [ 'expired long ago', { iat => time() - 7200, nbf => time() - 7200,
                            exp => int(time()) - 3600 },
      'the Bearer token has expired' ],
    [ 'not valid yet beyond the skew', { nbf_in => 600 },
      'the Bearer token is not valid yet' ],
    [ 'issued in the future', { claims => { iat => int(time()) + 900 } },
      'the Bearer token is issued in the future' ],
    [ 'another audience', { aud => 'api://another-app' },
      'the Bearer token\'s audience is not the configured one' ],
    [ 'the REST audience', { aud => 'https://webpubsub.azure.com' },
      'the Bearer token\'s audience is not the configured one' ],
    [ 'another tenant (tid)',
      { tid => '11111111-2222-4333-8444-555555555555',
        iss => "https://sts.windows.net/$TENANT/" },
      'the Bearer token\'s tenant is not the configured one' ],
    [ 'another tenant\'s issuer',
      { iss => 'https://sts.windows.net/11111111-2222-4333-8444-555555555555/' },
      'the Bearer token\'s issuer is not accepted' ],
    [ 'a foreign issuer', { iss => 'https://evil.example/' },
      'the Bearer token\'s issuer is not accepted' ],
    [ 'no exp', { omit => ['exp'] }, 'the Bearer token has no valid exp' ],
    [ 'alg none, the current kid', { alg => 'none', kid => $kid{current} },
      'the Bearer token is not signed with RS256' ],
    [ 'alg none, no kid', { alg => 'none' },
      'the Bearer token is not signed with RS256' ],
    [ 'HS256 with the public key\'s PEM', { alg => 'HS256',
                                           kid => $kid{current} },
      'the Bearer token is not signed with RS256' ],
    [ 'PS256 with the current key', { alg => 'PS256' },
      'the Bearer token is not signed with RS256' ],
    [ 'RS256 with a key never published', { key => 'foreign' },
      'the Bearer token\'s key is not one of the tenant\'s' ],
    [ 'a foreign key under the current kid',
      { key => 'foreign', kid => $kid{current} },
      'the Bearer token\'s signature does not verify' ],
);

my $app_before = () = app_log();
my $errlog_before = length $t->error_log();

for my $f (@forged) {
    my ($name, $spec, $reason) = @$f;
    my $got = outcome(webhook('/eventhandler/', token => mint($spec),
        connection => 'conn-forged'));
    is($got, "401 $reason", "forged: $name");
}

# a signature changed in one byte
{
    my $tok = mint();
    my ($h, $p, $s) = split /\./, $tok;
    substr($s, 10, 1) = substr($s, 10, 1) eq 'A' ? 'B' : 'A';
    is(outcome(webhook('/eventhandler/', token => "$h.$p.$s")),
        '401 the Bearer token\'s signature does not verify',
        'forged: one character of the signature changed');
    my $other = mint({ oid => $user->{object_id} });
    my (undef, $p2) = split /\./, $other;
    is(outcome(webhook('/eventhandler/', token => "$h.$p2.$s")),
        '401 the Bearer token\'s signature does not verify',
        'forged: the claims of another token under this signature');
}

# the Authorization header itself
for my $case (
    [ 'no Authorization', {} ],
    [ 'Basic', { authorization => 'Basic dXNlcjpwYXNz' } ],
    [ 'Bearer and nothing', { authorization => 'Bearer' } ],
    [ 'Bearer and spaces', { authorization => 'Bearer    ' } ],
    [ 'a token without a scheme', { authorization => mint() } ],
)
{
    my ($name, $o) = @$case;
    is(outcome(webhook('/eventhandler/', %$o)),
        '401 missing Bearer token', "$name: 401");
}
is(outcome(webhook('/eventhandler/', authorization => 'Bearer not-a-jwt')),
    '401 the Bearer token is not a JWT', 'Bearer not-a-jwt: 401');
is(outcome(webhook('/eventhandler/',
        authorization => 'Bearer ' . ('a' x 16384))),
    '401 the Bearer token is not a JWT',
    'a Bearer token of 16384 bytes (the bound) is read: 401');
is(outcome(webhook('/eventhandler/',
        authorization => 'Bearer ' . ('a' x 16385))),
    '401 missing Bearer token', 'one of 16385 bytes is not: 401');

my @app_forged = app_log();
is(scalar @app_forged, $app_before, 'the app got none of them')
    or diag(explain([ @app_forged[$app_before .. $#app_forged] ]));

my $warns = substr($t->error_log(), $errlog_before);
my @warn_reasons = $warns =~ /\[warn\].*webhook refused with 401: ([^,]+),/g;
my %expect = map { $_->[2] => 1 } @forged;
ok(!grep({ my $w = $_; !grep { $_ eq $w } @warn_reasons } keys %expect),
    'each refusal is logged at warn with its reason')
    or diag(join "\n", @warn_reasons);
like($t->read_file('events.log'),
    qr/^401 -\|-\|-\|-\|- "the Bearer token has expired"$/m,
    '$webpubsub_error holds the reason');

# within the skew, and the other accepted forms
for my $case (
    [ 'expired 2 minutes ago (within the skew)', { exp_in => -120 } ],
    [ 'valid 2 minutes from now (within the skew)', { nbf_in => 120 } ],
    [ 'a v2 token (the v2 issuer of the authority)',
      { version => 2, iss => "https://login.microsoftonline.com/$TENANT/v2.0" } ],
    [ 'aud as an array', { claims => { aud => [ 'api://x', $AUD ] } } ],
)
{
    my ($name, $spec) = @$case;
    is(outcome(webhook('/eventhandler/', token => mint($spec),
        connection => 'conn-skew')), '200 body ', "passes: $name");
}
is(outcome(webhook('/eventhandler/', authorization => 'bearer ' . mint(),
    connection => 'conn-skew')), '200 body ',
    'passes: the scheme in lower case');

# object_id pinned
is(outcome(webhook('/pinned/', token => mint(), connection => 'conn-pin')),
    '200 body ', 'object_id pinned: the service\'s identity passes');
is(outcome(webhook('/pinned/', token => mint({ oid => $user->{object_id} }),
    connection => 'conn-pin-other')),
    '401 the Bearer token\'s object id is not the configured one',
    'object_id pinned: a token of another object id is refused');

###############################################################################
# access keys and Bearer together

my $p4 = $t->port(4);
my $good = mint();
is(outcome(webhook('/eventhandler/', port => $p4, key => $KEY, token => $good,
    connection => 'conn-both')), '200 body ',
    'key and Bearer: a valid signature and a valid token pass');
is(outcome(webhook('/eventhandler/', port => $p4, key => $KEY,
    connection => 'conn-both')), '401 missing Bearer token',
    'key and Bearer: the signature alone is refused');
is(outcome(webhook('/eventhandler/', port => $p4, token => $good,
    connection => 'conn-both')), '401 missing ce-signature',
    'key and Bearer: the token alone is refused');
is(outcome(webhook('/eventhandler/', port => $p4, key => 'not-the-key',
    token => $good, connection => 'conn-both')), '401 invalid ce-signature',
    'key and Bearer: a valid token with a wrong signature is refused');
is(outcome(webhook('/eventhandler/', port => $p4, key => $KEY,
    token => mint({ aud => 'api://another-app' }), connection => 'conn-both')),
    '401 the Bearer token\'s audience is not the configured one',
    'key and Bearer: a valid signature with a forged token is refused');
is(scalar(grep { $_->{arrived}
                 && ($_->{headers}{'ce-connectionid'} // '') eq 'conn-both' }
          app_log()), 1, 'the app got the one with both');

###############################################################################
# the keys endpoint down at the first use of a tenant's keys

$from = idp_seq();
$idp->control({ mode => 'down', only => ['jwks'], count => 1 });
$app_before = () = app_log();
$r = webhook('/down/', token => mint(), connection => 'conn-down');
is($r->{status}, 502, 'keys endpoint down: 502');
like($r->{content}, qr/^\{"error":"keys endpoint [^"]+"\}\z/,
    'keys endpoint down: a JSON reason');
is(scalar(() = app_log()), $app_before, 'keys endpoint down: the app got nothing');
my @down = key_fetches($from);
is_deeply([ map { $_->{mode} } @down ], ['down'],
    'one keys request was made, and met the failure')
    or diag(explain(\@down));

# once it answers again, so does the gateway (bounded: a failure is not
# retried within the second it happened)
my $back;
my $deadline = time() + 5;
while (time() < $deadline) {
    $back = webhook('/down/', token => mint(), connection => 'conn-back');
    last if $back->{status} != 502;
    sleep(0.1);
}
is(outcome($back), '200 body ', 'keys endpoint back: the next webhook passes');
ok(scalar(key_fetches($from)) <= 12,
    'and the failed fetch was not retried in a loop');

###############################################################################
# unknown key ids: the module asks again at most once a minute

# the flood's location has keys of its own, fetched now
$from = idp_seq();
is(outcome(webhook('/flood/', token => mint(), connection => 'conn-flood')),
    '200 body ', 'flood location: a valid token passes');
is(scalar(key_fetches($from)), 1, 'flood location: its keys fetched once');

# an unknown kid: the keys are fetched again at once (the first forced
# fetch), in case the tenant has rotated its keys
$from = idp_seq();
is(outcome(webhook('/flood/', token => mint({ key => 'foreign' }),
    connection => 'conn-flood'))
    , '401 the Bearer token\'s key is not one of the tenant\'s',
    'an unknown kid: 401');
is(scalar(key_fetches($from)), 1, 'and one forced fetch for it');

# within the minute after it, a flood of unknown kids fetches nothing
$from = idp_seq();
$app_before = () = app_log();
my @flood;
for my $i (1 .. 20) {
    push @flood, outcome(webhook('/flood/', token => mint({ key => 'foreign' }),
        connection => "conn-flood-$i"));
}
is_deeply([ grep { $_ ne "401 the Bearer token's key is not one of the tenant's" }
            @flood ], [], 'a flood of 20 unknown kids: all 401');
is(scalar(key_fetches($from)), 0,
    'and no keys fetch for them, within the minute of the forced one');
is(scalar(() = app_log()), $app_before, 'the app got none of the flood');

# the identity provider rotates its key: the next genuine webhook has the
# new kid, not in the keys nginx holds (for /rotated/, fetched now)
my $old_token = mint();
is(outcome(webhook('/rotated/', token => $old_token,
    connection => 'conn-before')), '200 body ',
    'before the rotation: the keys of /rotated/ fetched, its webhook passes');
$idp->control({ rotate_key => JSON::PP::true });
my $new_kid = $idp->state->{kids}[0];
isnt($new_kid, $kid{current}, 'the identity provider has a new kid');

# The emulator keeps its webhook token for the hour: a new one (as the
# service after a restart) asks IMDS, and gets the new key's.  The client
# gets its token from the service itself here, with a token of the new key
# (nginx's cached one is of the old key, now gone from the keys).
$wps->stop;
$wps = WebPubSub::Identity::start_emulator($t, idp => $idp, port => 3,
    name => 'emulator2', env => {
        WPS_EVENT_HANDLER    => 'http://127.0.0.1:' . $t->port(0)
                                . '/rotated/',
        WPS_WEBHOOK_AUDIENCE => $AUD,
    });
my $gen = HTTP::Tiny->new(timeout => 10)->post(
    'http://127.0.0.1:' . $t->port(3) . '/api/hubs/chat/:generateToken'
    . '?api-version=2024-12-01&userId=bob&minutesToExpire=60',
    { headers => { Authorization => 'Bearer ' . $idp->mint({})->{token} } });
my $client_token = $gen->{status} == 200
    ? eval { $JSON->decode($gen->{content})->{token} } : undef;
ok($client_token, 'a client token from the service\'s :generateToken')
    or diag("$gen->{status} $gen->{content}");
$from = idp_seq();
$c = run_client('ws://127.0.0.1:' . $t->port(3)
    . '/client/hubs/chat?access_token=' . ($client_token // 'none'),
    'message');
ok(!defined $c->{error} && $c->{connectionId} && $c->{eventAck}
    && $c->{stopped}, 'after the rotation, a client goes through every step')
    or diag(explain($c), $t->read_file('client.err'));
@sent = service_events_of($c->{connectionId} // '?');
is_deeply([ map { ($_->{event} // '?') . ' ' . ($_->{status} // $_->{error}) }
            @sent ],
    [ 'connect 200', 'connected 200', 'message 200', 'disconnected 200' ],
    'its webhooks, signed with the new key, were answered 200')
    or diag(explain(\@sent));
my ($first) = grep { $_->{arrived}
    && ($_->{headers}{'ce-connectionid'} // '') eq ($c->{connectionId} // '?') }
    app_log();
my ($hdr) = $first ? jwt_decode(($first->{headers}{authorization} // '')
    =~ /^Bearer (\S+)/) : ();
is($hdr && $hdr->{kid}, $new_kid, 'the app got them, under the new kid');
@fetches = key_fetches($from);
is(scalar @fetches, 1, 'the new kid cost one keys fetch')
    or diag(explain(\@fetches));

# the old key is gone from the keys: a token of it no longer passes (its
# kid is unknown, and the last fetch is recent)
is(outcome(webhook('/rotated/', token => $old_token,
    connection => 'conn-old')),
    '401 the Bearer token\'s key is not one of the tenant\'s',
    'a token of the rotated-out key: 401');

###############################################################################
# An access token whose life is shorter than the 5 minutes of the refresh
# margin (IMDS hands out its cached token until shortly before it
# expires): it is valid, so one fetch must do.

$idp->control({ lifetime => 240 });
$from = idp_seq();
$r = $t->get('/negotiate-short', timeout => 5);
my @imds = grep { $_->{kind} eq 'imds'
                  && ($_->{query}{client_id} // '') eq $user->{client_id} }
    $idp->log($from);
is($r->{status}, 200, 'a token of 240 s: negotiate answers')
    or diag("$r->{status} " . substr($r->{content}, 0, 200));
ok(@imds == 1, 'with one IMDS request')
    or diag(scalar(@imds) . ' IMDS requests');

###############################################################################
# nothing secret in the logs

my $log = $t->error_log();
# entries, with the lines nginx's debug dumps of headers go on over
my @ours = grep { !/\[debug\]/ }
    split /\n(?=\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d )/, $log;
ok(!grep({ /eyJ[A-Za-z0-9_-]{10,}\.eyJ/ } @ours),
    'no token in error.log above debug level');
ok(!grep({ /\Q$KEY\E/ } @ours), 'no key in error.log');

$t->done();
