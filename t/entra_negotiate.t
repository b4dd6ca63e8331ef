#!/usr/bin/perl

# Negotiate on a resource without access keys: webpubsub_token asks the
# service's :generateToken (with an Entra ID token from the identity
# provider stand-in's IMDS) and answers as the official SDK's
# getClientAccessToken() does with a credential.  The oracle is
# @azure/web-pubsub with ManagedIdentityCredential (t/fixtures/
# identity_oracle.js) against the same emulator in Entra mode (HTTPS):
# the answer's shape, baseUrl and url, the token's claims, and the query
# of :generateToken in the emulator's log are compared with the SDK's;
# the token opens a WebSocket to the emulator.  Also the variables
# (webpubsub_token_variables), and the service's failures.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use POSIX ();
use WebPubSub::Nginx;
use WebPubSub::Identity;

my $HUB = 'chat';
my @ROLES = ('webpubsub.sendToGroup.g1', 'webpubsub.joinLeaveGroup.g 2');
my @GROUPS = ('g1', 'g 2');
my $JSON = JSON::PP->new->utf8->canonical;

my $t = WebPubSub::Nginx->new();
my $tls = WebPubSub::Identity::server_cert($t);
my $dir = $t->testdir;

my $mi = WebPubSub::Identity->start($t, port => 1, name => 'mi');
my $wps = WebPubSub::Identity::start_emulator($t, idp => $mi, port => 2,
    tls => $tls, name => 'wps');
# a service where nginx's identity holds no data-plane role: 403
my $wps403 = WebPubSub::Identity::start_emulator($t, idp => $mi, port => 3,
    tls => $tls, name => 'wps403',
    env => { WPS_ENTRA_OIDS => '00000000-0000-0000-0000-00000000abcd' });
my ($mi_port, $wps_port, $w403_port) = ($mi->port, $wps->port, $wps403->port);
my $fail_port = $t->port(4);

my $ssl = "proxy_ssl_verify on; "
    . "proxy_ssl_trusted_certificate $tls->{cert}; "
    . 'proxy_ssl_name localhost;';
my $roles = join ' ', map { "\"$_\"" } @ROLES;
my $groups = join ' ', map { "\"$_\"" } @GROUPS;

$t->write_conf(<<"EOF");
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    error_log %%TESTDIR%%/error.log info;

    webpubsub_endpoint https://127.0.0.1:$wps_port;
    webpubsub_credential managed_identity;
    webpubsub_credential_pass /_mi;
    webpubsub_rest_pass /_wps;
    webpubsub_hub $HUB;
    webpubsub_token_user_id \$arg_user;
    webpubsub_token_roles $roles;
    webpubsub_token_groups $groups;
    webpubsub_token_ttl 90s;

    server {
        listen 127.0.0.1:%%PORT_0%%;

        location = /_mi { internal; proxy_pass http://127.0.0.1:$mi_port; }
        location = /_wps {
            internal;
            proxy_pass https://127.0.0.1:$wps_port;
            $ssl
        }
        location = /_wps403 {
            internal;
            proxy_pass https://127.0.0.1:$w403_port;
            $ssl
        }
        location = /_wps500 {
            internal;
            proxy_pass http://127.0.0.1:$fail_port;
        }

        location = /negotiate { webpubsub_token; }
        location = /negotiate/mqtt {
            webpubsub_token_protocol mqtt;
            webpubsub_token;
        }
        location = /negotiate/socketio {
            webpubsub_token_protocol socketio;
            webpubsub_token;
        }
        location = /negotiate/403 {
            webpubsub_rest_pass /_wps403;
            webpubsub_token;
        }
        location = /negotiate/500 {
            webpubsub_rest_pass /_wps500;
            webpubsub_token;
        }
        location = /url {
            webpubsub_token_variables on;
            return 200 \$webpubsub_client_url;
        }
        location = /url/novars {
            return 200 "[\$webpubsub_client_url]";
        }
    }

    # the service answering 500
    server {
        listen 127.0.0.1:$fail_port;
        location / {
            default_type application/json;
            return 500 '{"code":"InternalServerError"}';
        }
    }
}
EOF
$t->run();

$t->plan(23);

# query text -> { name => [values] }
sub query_of {
    my ($url) = @_;
    my ($q) = $url =~ /\?(.*)\z/;
    my %h;
    for (split /&/, $q // '') {
        my ($k, $v) = split /=/, $_, 2;
        $v //= '';
        $v =~ s/\+/ /g;
        $v =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge;
        push @{ $h{$k} }, $v;
    }
    return \%h;
}

sub generate_entries {
    my ($w) = @_;
    return grep { $_->{kind} eq 'rest' && ($_->{op} // '') eq 'generateToken' }
        $w->log_entries;
}

# a WebSocket to url with the official ws package: "open" or the refusal
sub ws_connect {
    my ($url) = @_;
    my $script = <<'JS';
const WebSocket = require("ws");
const ws = new WebSocket(process.argv[1], "json.webpubsub.azure.v1");
const done = (v) => { console.log(v); process.exit(0); };
setTimeout(() => done("timeout"), 10000).unref();
ws.on("open", () => { ws.close(); done("open"); });
ws.on("unexpected-response", (q, r) => done(`status ${r.statusCode}`));
ws.on("error", (e) => done(`error ${e.message}`));
JS
    local $ENV{NODE_PATH} = "$FindBin::Bin/node_modules";
    local $ENV{NODE_EXTRA_CA_CERTS} = $tls->{cert};
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        open(STDERR, '>>', "$dir/ws.err");
        exec(WebPubSub::Identity::node(), '-e', $script, $url)
            or POSIX::_exit(127);
    }
    local $/;
    my $out = <$fh> // '';
    close $fh;
    $out =~ s/\s+\z//;
    return $out;
}

###############################################################################
# The SDK, then nginx, for the same values

my $oracle = WebPubSub::Identity::oracle($t, { credential => 'imds',
    imds_host => $mi->origin, webpubsub => {
        endpoint => $wps->endpoint, hub => $HUB, user_id => 'alice',
        roles => \@ROLES, groups => \@GROUPS, minutes => 2 } },
    ca => $tls->{cert});
my $ow = $oracle->{webpubsub} // {};
ok($oracle->{ok} && !$ow->{error} && $ow->{base_url},
    'the SDK got a client access token') or diag($JSON->encode($oracle));
my ($sdk_call) = (generate_entries($wps))[-1];

my $res = $t->get('/negotiate?user=alice');
my $a = eval { $JSON->decode($res->{content}) } // {};
is($res->{status}, 200, 'negotiate: 200') or diag($res->{content});
is(join(',', sort keys %$a), 'baseUrl,token,url',
    'negotiate: the keys of getClientAccessToken()');
is($a->{baseUrl}, $ow->{base_url}, 'negotiate: baseUrl as the SDK\'s');
is($a->{url}, "$a->{baseUrl}?access_token=$a->{token}",
    'negotiate: url is baseUrl?access_token=token');
my ($nginx_call) = (generate_entries($wps))[-1];

my ($h, $c) = eval { jwt_decode($a->{token} // '') };
($h, $c) = ($h // {}, $c // {});
my ($oh, $oc) = ($ow->{token_header} // {}, $ow->{token_claims} // {});
my @names = qw(aud iss sub role webpubsub.group);
is_deeply([ $h->{alg}, $h->{typ}, ($h->{kid} // '') =~ /\As-/ ? 1 : 0,
            { map { $_ => $c->{$_} } @names }, ($c->{exp} // 0) - ($c->{iat} // 0) ],
    [ $oh->{alg}, $oh->{typ}, 1,
      { map { $_ => $oc->{$_} } @names }, ($oc->{exp} // 0) - ($oc->{iat} // 0) ],
    'the token: the header and claims of the SDK\'s (ttl 90 s -> 2 minutes)')
    or diag($JSON->encode([ $h, $c, $ow ]));

ok($nginx_call && $nginx_call->{status} == 200
    && $nginx_call->{auth} eq 'entra token valid' && $nginx_call->{method} eq 'POST',
    ':generateToken with a valid Entra token') or diag($JSON->encode($nginx_call));
my ($nq, $sq) = map { query_of(($_ // {})->{url} // '') } $nginx_call, $sdk_call;
is_deeply($nq, $sq, ':generateToken: the query is the SDK\'s')
    or diag($JSON->encode([ $nginx_call, $sdk_call ]));
is_deeply([ $nq->{userId}, $nq->{role}, $nq->{group}, $nq->{minutesToExpire},
            $nq->{clientType} ],
    [ ['alice'], \@ROLES, \@GROUPS, ['2'], undef ],
    ':generateToken: userId, role and group repeated, minutesToExpire 2, '
    . 'no clientType');
is(($nginx_call->{url} // '') =~ s/\?.*//r, "/api/hubs/$HUB/:generateToken",
    ':generateToken: the path');

is(ws_connect($a->{url} // 'wss://127.0.0.1:1/'), 'open',
    'the token opens a WebSocket to the service');

###############################################################################
# Protocols

$res = $t->get('/negotiate/mqtt?user=bob');
$a = eval { $JSON->decode($res->{content}) } // {};
my ($mq) = map { query_of($_->{url}) } (generate_entries($wps))[-1];
ok($res->{status} == 200 && $mq->{clientType} && "@{ $mq->{clientType} }" eq 'mqtt',
    'mqtt: clientType=mqtt') or diag($res->{content});
like($a->{baseUrl} // '', qr{\Awss://127\.0\.0\.1:$wps_port/clients/mqtt/hubs/$HUB\z},
    'mqtt: the MQTT base URL');
(undef, $c) = eval { jwt_decode($a->{token} // '') };
is(($c // {})->{aud}, $wps->endpoint . "/clients/mqtt/hubs/$HUB",
    'mqtt: the service made an MQTT token');

$res = $t->get('/negotiate/socketio?user=carol');
$a = eval { $JSON->decode($res->{content}) } // {};
my ($sio) = map { query_of($_->{url}) } (generate_entries($wps))[-1];
ok($res->{status} == 200 && !exists $sio->{clientType} && $a->{token}
    && $a->{path} eq "/clients/socketio/hubs/$HUB",
    'socketio: no clientType sent, the Socket.IO answer')
    or diag($res->{content} . $JSON->encode($sio));

###############################################################################
# The variables

$res = $t->get('/url?user=dave');
like($res->{content}, qr{\Awss://127\.0\.0\.1:$wps_port/client/hubs/$HUB\?access_token=ey},
    'webpubsub_token_variables on: $webpubsub_client_url');
is(ws_connect($res->{content}), 'open', 'that URL opens a WebSocket');

my $before = () = $t->error_log =~ /add "webpubsub_token_variables on;"/g;
$res = $t->get('/url/novars?user=erin');
my $after = () = $t->error_log =~ /add "webpubsub_token_variables on;"/g;
is($res->{content}, '[]', 'without webpubsub_token_variables: empty');
is($after - $before, 1, 'without it: one error line says to add it');

###############################################################################
# The service's failures

$res = $t->get('/negotiate/403?user=frank');
is($res->{status}, 403, 'a 403 of :generateToken reaches the caller');
$res = $t->get('/negotiate/500?user=gina');
my $j = eval { $JSON->decode($res->{content}) };
ok($res->{status} == 502 && ref $j eq 'HASH' && defined $j->{error},
    'a 500 of :generateToken: 502 with a JSON error')
    or diag("$res->{status} $res->{content}");

unlike($t->error_log, qr/eyJ/, 'no token in the error log');

# the master survives its workers' exit: nginx treats every shared zone
# as a slab pool (it unlocks the slab's mutex of a zone when a worker
# exits), so a zone laid out otherwise crashes it
{
    my ($master) = $t->read_file('nginx.pid') =~ /(\d+)/;
    $t->stop(checks => 0);
    like($t->error_log, qr/\b$master#\d+: exit$/m,
        'the master exits cleanly after its workers (no crash on SIGCHLD)');
}

$t->done();
