#!/usr/bin/perl

# webpubsub_credential against the official @azure/identity: for each kind
# of credential, nginx gets an Entra ID access token from the identity
# provider stand-in (emulator/identity.js; plain HTTP for IMDS and App
# Service, HTTPS for the token endpoint, reached by nginx with
# proxy_ssl_verify on) and makes a REST send_to_all with it through a
# webpubsub_rest location to the emulator in Entra mode, which must answer
# 202 and log the call as carrying a valid Entra token.  What nginx sent to
# the identity provider is compared with what the oracle
# (t/fixtures/identity_oracle.js, @azure/identity) sent for the same
# identity: method, path, query, the secret header, the form fields and
# the client assertion (also captured and verified here with openssl).
# Besides: the workload identity's token file is read again for each
# fetch, the token is fetched once for many calls, the caller's headers
# never reach the identity provider, and no secret or token reaches the
# error log.
#
# nginx reads IDENTITY_ENDPOINT/IDENTITY_HEADER and the AZURE_* variables
# of workload identity from the environment it is started with: the
# harness forks nginx with the test's %ENV, so a "local $ENV{..}" around
# run() is that environment.  App Service needs a second nginx (the
# variables switch every managed_identity without endpoint= to it).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use POSIX ();
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);
use WebPubSub::Nginx;
use WebPubSub::Identity;

my $SECRET = 'client-secret-of-the-credential-tests';
my $RESOURCE = 'https://webpubsub.azure.com';
my $HUB = 'chat';
my $COOKIE = 'session=caller-cookie-value-4711';
my $CALLER_AUTH = 'Bearer caller-authorization-value-4712';
my $JSON = JSON::PP->new->utf8->canonical;
my $fp = \&WebPubSub::Identity::fingerprint;

# msal-node's telemetry and correlation fields: the token endpoint does not
# need them to issue a token (the identity provider ignores them, as Entra
# ID does), so nginx does not send them
my %MSAL_FORM_EXTRA = map { $_ => 1 } qw(x-client-SKU x-client-VER
    x-client-OS x-client-CPU x-ms-lib-capability x-client-current-telemetry
    x-client-last-telemetry client-request-id);

my $t = WebPubSub::Nginx->new();
my $tls = WebPubSub::Identity::server_cert($t);
my $cc = WebPubSub::Identity::client_cert($t, 'client');
my $dir = $t->testdir;

my $mi = WebPubSub::Identity->start($t, port => 1, name => 'mi');
my $sts = WebPubSub::Identity->start($t, port => 2, name => 'sts',
    tls => $tls,
    env => { IDP_CLIENT_SECRET => $SECRET, IDP_CLIENT_CERT => $cc->{cert} });
my $wps_mi = WebPubSub::Identity::start_emulator($t, idp => $mi, port => 3,
    tls => $tls, name => 'wps_mi');
my $wps_sts = WebPubSub::Identity::start_emulator($t, idp => $sts, port => 4,
    tls => $tls, name => 'wps_sts');
my $cap_port = $t->port(5);

$t->write_file('secret.txt', "$SECRET\n");
my $fed_env = $sts->mint({ federated => JSON::PP::true })->{token};
$t->write_file('federated.jwt', "$fed_env\n");
# the rotation test's own file: a slot of its own (the file names it)
$t->write_file('federated-rotate.jwt', "$fed_env\n");
my $fed_param = $sts->mint({ federated => JSON::PP::true,
    claims => { jti => 'the-parameters-token' } })->{token};
$t->write_file('federated-param.jwt', $fed_param);

my $system = $mi->system_identity;
my ($user) = @{ $mi->user_identities };
my $tenant = $sts->tenant;
my $client = $sts->client_id;

# the capture stand-in of a token endpoint: it keeps each request it gets
# (capture-N.http) and refuses it
$t->run_daemon(sub {
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
        LocalPort => $cap_port, Listen => 8, ReuseAddr => 1)
        or die "capture: $!";
    my $n = 0;
    for (1 .. 50) {
        my $c = $srv->accept() or next;
        my $sel = IO::Select->new($c);
        my ($req, $deadline) = ('', time() + 10);
        while (time() < $deadline && length $req < 65536
               && $sel->can_read($deadline - time()))
        {
            my $got = sysread($c, my $buf, 65536) or last;
            $req .= $buf;
            if ($req =~ /\A(.*?)\r\n\r\n/s) {
                my $head = $1;
                my ($len) = $head =~ /^content-length:\s*(\d+)/mi;
                last if length($req) >= length($head) + 4 + ($len // 0);
            }
        }
        next unless length $req;    # a readiness probe
        $n++;
        open my $fh, '>:raw', "$dir/capture-$n.http" or die;
        print {$fh} $req;
        close $fh;
        my $body = '{"error":"invalid_request","error_description":"captured"}';
        print {$c} "HTTP/1.1 400 Bad Request\r\n"
            . "Content-Type: application/json\r\nContent-Length: "
            . length($body) . "\r\nConnection: close\r\n\r\n$body";
        close $c;
    }
});
$t->wait_for_port($cap_port, 10);

my ($mi_port, $sts_port) = ($mi->port, $sts->port);
my ($wmi_port, $wsts_port) = ($wps_mi->port, $wps_sts->port);

my $ssl = "proxy_ssl_verify on;\n"
    . "            proxy_ssl_trusted_certificate $tls->{cert};\n"
    . "            proxy_ssl_name localhost;";

# a REST location of one credential: send_to_all with it
sub rest_loc {
    my ($path, $wps_port, $pass, $cred) = @_;
    my $rest = $wps_port == $wmi_port ? '/_wps_mi' : '/_wps_sts';
    return <<"EOF";
        location = $path {
            webpubsub_endpoint https://127.0.0.1:$wps_port;
            webpubsub_credential $cred;
            webpubsub_credential_pass $pass;
            webpubsub_rest_pass $rest;
            webpubsub_rest send_to_all;
        }
EOF
}

# the internal locations of both nginx instances
my $common = <<"EOF";
        location = /_mi {
            internal;
            proxy_pass http://127.0.0.1:$mi_port;
        }
        location = /_sts {
            internal;
            proxy_pass https://127.0.0.1:$sts_port;
            $ssl
        }
        location = /_capture {
            internal;
            proxy_pass http://127.0.0.1:$cap_port;
        }
        location = /_wps_mi {
            internal;
            proxy_pass https://127.0.0.1:$wmi_port;
            $ssl
        }
        location = /_wps_sts {
            internal;
            proxy_pass https://127.0.0.1:$wsts_port;
            $ssl
        }
EOF

my $authority = "authority=https://127.0.0.1:$sts_port/";
my $conf = join '',
    rest_loc('/imds/system', $wmi_port, '/_mi', 'managed_identity'),
    rest_loc('/imds/client_id', $wmi_port, '/_mi',
        "managed_identity client_id=$user->{client_id}"),
    rest_loc('/imds/object_id', $wmi_port, '/_mi',
        "managed_identity object_id=$user->{object_id}"),
    rest_loc('/imds/resource_id', $wmi_port, '/_mi',
        "managed_identity resource_id=$user->{resource_id}"),
    # the same identity by another name (endpoint=): slots of their own
    rest_loc('/imds/reuse', $wmi_port, '/_mi', 'managed_identity '
        . 'endpoint=http://169.254.169.254/metadata/identity/oauth2/token'),
    rest_loc('/imds/short', $wmi_port, '/_mi', 'managed_identity '
        . 'endpoint=http://imds.test/metadata/identity/oauth2/token'),
    rest_loc('/secret', $wsts_port, '/_sts',
        "client_secret tenant_id=$tenant client_id=$client "
        . "secret_file=$dir/secret.txt $authority"),
    rest_loc('/certificate', $wsts_port, '/_sts',
        "client_certificate tenant_id=$tenant client_id=$client "
        . "certificate_file=$cc->{pem} $authority"),
    rest_loc('/certificate/capture', $wsts_port, '/_capture',
        "client_certificate tenant_id=$tenant client_id=$client "
        . "certificate_file=$cc->{pem} authority=https://127.0.0.1:$cap_port/"),
    rest_loc('/workload', $wsts_port, '/_sts', 'workload_identity'),
    rest_loc('/workload/rotate', $wsts_port, '/_sts',
        "workload_identity token_file=$dir/federated-rotate.jwt");

sub nginx_conf {
    my ($locations) = @_;
    return <<"EOF";
%%GLOBALS%%
events { }
http {
    %%GLOBALS_HTTP%%
    # what the module logs, up to info; debug lines are nginx's own
    error_log %%TESTDIR%%/error.log info;
    webpubsub_hub $HUB;
    server {
        listen 127.0.0.1:%%PORT_0%%;
$common
$locations
    }
}
EOF
}

$t->write_conf(nginx_conf($conf));
{
    local $ENV{AZURE_CLIENT_ID} = $client;
    local $ENV{AZURE_TENANT_ID} = $tenant;
    local $ENV{AZURE_FEDERATED_TOKEN_FILE} = "$dir/federated.jwt";
    local $ENV{AZURE_AUTHORITY_HOST} = $sts->origin . '/';
    delete local $ENV{IDENTITY_ENDPOINT};
    delete local $ENV{IDENTITY_HEADER};
    $t->run();
}

# App Service: a second nginx started with its variables
my $ta = WebPubSub::Nginx->new();
$ta->write_conf(nginx_conf(join '',
    rest_loc('/as/system', $wmi_port, '/_mi', 'managed_identity'),
    rest_loc('/as/client_id', $wmi_port, '/_mi',
        "managed_identity client_id=$user->{client_id}"),
    rest_loc('/as/object_id', $wmi_port, '/_mi',
        "managed_identity object_id=$user->{object_id}"),
    rest_loc('/as/resource_id', $wmi_port, '/_mi',
        "managed_identity resource_id=$user->{resource_id}")));
my $ta_started = do {
    local $ENV{IDENTITY_ENDPOINT} = $mi->appservice_endpoint;
    local $ENV{IDENTITY_HEADER} = $mi->identity_header;
    eval { $ta->run(); 1 } || $@;
};

# workload identity from the directive's parameters alone (no AZURE_*)
my $tw = WebPubSub::Nginx->new();
$tw->write_conf(nginx_conf(
    rest_loc('/workload/param', $wsts_port, '/_sts',
        "workload_identity client_id=$client tenant_id=$tenant "
        . "token_file=$dir/federated-param.jwt $authority")));
{
    delete local $ENV{$_} for qw(AZURE_CLIENT_ID AZURE_TENANT_ID
        AZURE_FEDERATED_TOKEN_FILE AZURE_AUTHORITY_HOST IDENTITY_ENDPOINT
        IDENTITY_HEADER);
    $tw->run();
}

# an authority without a path, as AZURE_AUTHORITY_HOST or authority= (the
# SDKs take "https://login.microsoftonline.com" as well as with a "/")
my $tn = WebPubSub::Nginx->new();
$tn->write_conf(nginx_conf(join '',
    rest_loc('/workload/noslash', $wsts_port, '/_sts', 'workload_identity'),
    rest_loc('/certificate/noslash', $wsts_port, '/_capture',
        "client_certificate tenant_id=$tenant client_id=$client "
        . "certificate_file=$cc->{pem} authority=https://127.0.0.1:$cap_port")));
my $tn_started = do {
    local $ENV{AZURE_CLIENT_ID} = $client;
    local $ENV{AZURE_TENANT_ID} = $tenant;
    local $ENV{AZURE_FEDERATED_TOKEN_FILE} = "$dir/federated-param.jwt";
    local $ENV{AZURE_AUTHORITY_HOST} = $sts->origin;
    delete local $ENV{IDENTITY_ENDPOINT};
    delete local $ENV{IDENTITY_HEADER};
    eval { $tn->run(); 1 } || $@;
};

$t->plan(115);

is($ta_started, 1, 'nginx starts with IDENTITY_ENDPOINT (a URL with a path)')
    or diag($ta_started);

###############################################################################
# Helpers

sub oracle { WebPubSub::Identity::oracle($t, $_[0], ca => $tls->{cert}) }

# the identity provider's log entries one piece of code caused
sub logged {
    my ($idp, $code) = @_;
    my $from = $idp->state->{requests};
    my @r = $code->();
    return (\@r, [ $idp->log($from) ]);
}

sub of_kind {
    my ($kind, $log) = @_;
    return grep { $_->{kind} eq $kind } @$log;
}

# one REST call through nginx $n, with the caller's own credentials
sub call {
    my ($n, $path) = @_;
    return $n->request('POST', $path, timeout => 5,
        headers => { 'Content-Type' => 'text/plain', Cookie => $COOKIE,
                     Authorization => $CALLER_AUTH, 'X-Caller' => 'yes' },
        body => "hello from $path");
}

# the emulator's REST log entries since $from
sub wps_rest {
    my ($wps, $from) = @_;
    my @all = grep { $_->{kind} eq 'rest' } $wps->log_entries;
    return @all[$from .. $#all];
}

sub wps_count { scalar(() = grep { $_->{kind} eq 'rest' } $_[0]->log_entries) }

# the call went through with a valid Entra token: 202, and the emulator
# logged one sendToAll authenticated by it
sub rest_ok {
    my ($n, $path, $wps, $name) = @_;
    my $from = wps_count($wps);
    my $res = call($n, $path);
    my @rest = wps_rest($wps, $from);
    ok($res->{status} == 202 && @rest == 1 && $rest[0]{op} eq 'sendToAll'
        && $rest[0]{status} == 202 && $rest[0]{auth} eq 'entra token valid',
        "$name: send_to_all 202, the emulator saw a valid Entra token")
        or diag("$res->{status} $res->{content} " . $JSON->encode(\@rest));
}

my @nginx_entries;    # every identity request nginx made, for the header check

(my $imds_path = $mi->imds_endpoint) =~ s{^https?://[^/]+}{};

###############################################################################
# Managed identity: IMDS, then App Service

my @mi_cases = (
    [ 'system-assigned', 'system', {} ],
    [ 'client_id', 'client_id', { client_id => $user->{client_id} } ],
    [ 'object_id', 'object_id', { object_id => $user->{object_id} } ],
    [ 'resource_id', 'resource_id', { resource_id => $user->{resource_id} } ],
);

for my $kind (qw(imds appservice)) {
    my $n = $kind eq 'imds' ? $t : $ta;
    for my $c (@mi_cases) {
        my ($name, $loc, $pick) = @$c;
        $name = "$kind $name";
        my ($r, $log) = logged($mi, sub {
            oracle({ credential => $kind, imds_host => $mi->origin,
                     identity_endpoint => $mi->appservice_endpoint,
                     identity_header => $mi->identity_header, %$pick });
        });
        my ($want) = of_kind($kind, $log);
        ok($r->[0]{ok} && $want && $want->{status} == 200,
            "$name: the oracle got its token") or diag($JSON->encode($r));
        $want //= {};

        (undef, $log) = logged($mi, sub {
            rest_ok($n, ($kind eq 'imds' ? '/imds/' : '/as/') . $loc,
                $wps_mi, $name);
        });
        my @got = of_kind($kind, $log);
        push @nginx_entries, @$log;
        my $got = $got[0] // {};
        is(scalar @got, 1, "$name: one identity request");

        # the SDK reaches IMDS through AZURE_POD_IDENTITY_AUTHORITY_HOST,
        # which adds a "/" to the path; the real IMDS path has none
        (my $want_path = $want->{path} // '') =~ s{/\z}{};
        is_deeply([ $got->{method}, $got->{path}, $got->{query} ],
            [ $want->{method}, $want_path, $want->{query} ],
            "$name: method, path and query as the SDK's")
            or diag($JSON->encode([ $got, $want ]));
        if ($kind eq 'imds') {
            is_deeply([ $got->{path}, $got->{headers}{metadata} ],
                [ $imds_path, $want->{headers}{metadata} ],
                "$name: the IMDS path, Metadata: true");
        } else {
            ok($got->{headers}{'x-identity-header'}
                && $got->{headers}{'x-identity-header'}
                   eq $want->{headers}{'x-identity-header'}
                && $got->{headers}{'x-identity-header'}
                   eq $fp->($mi->identity_header)
                && !exists $got->{headers}{metadata},
                "$name: X-IDENTITY-HEADER as the SDK's")
                or diag($JSON->encode([ $got->{headers}, $want->{headers} ]));
        }
        my $cl = ($got->{issued} // {})->{claims} // {};
        my $who = $name =~ /system/ ? $system : $user;
        ok($cl->{oid} && $cl->{oid} eq $who->{object_id}
            && $cl->{appid} eq $who->{client_id} && $cl->{aud} eq $RESOURCE,
            "$name: the token was issued to that identity");
    }
}

is_deeply([ map { $_->{query}{'api-version'} }
            grep { $_->{kind} =~ /^(imds|appservice)$/ } @nginx_entries ],
    [ ('2018-02-01') x 4, ('2019-08-01') x 4 ],
    'api-version 2018-02-01 for IMDS, 2019-08-01 for App Service');

# fetched once, used for every call
{
    my (undef, $log) = logged($mi, sub {
        rest_ok($t, '/imds/reuse', $wps_mi, "reuse call $_") for 1 .. 5;
    });
    push @nginx_entries, @$log;
    is(scalar(of_kind('imds', $log)), 1, 'five calls, one IMDS request');
}

###############################################################################
# The token endpoint: client secret, certificate, workload identity

my %sts_case = (authority_host => $sts->origin, tenant => $tenant,
    client_id => $client);

# the form fields both sent, and those only the SDK sent
sub form_compare {
    my ($name, $got, $want, @secret_fields) = @_;
    my ($g, $w) = ($got->{form} // {}, $want->{form} // {});
    my %secret = map { $_ => 1 } @secret_fields;
    my @only_sdk = sort grep { !exists $g->{$_} } keys %$w;
    my @only_nginx = sort grep { !exists $w->{$_} } keys %$g;
    is_deeply([ grep { !$MSAL_FORM_EXTRA{$_} } @only_sdk ], [],
        "$name: every field the SDK sends but msal's telemetry is sent")
        or diag("only the SDK: @only_sdk");
    is_deeply(\@only_nginx, [], "$name: no field the SDK does not send");
    note("$name: sent by the SDK only: @only_sdk");
    my @same = grep { !$secret{$_} && exists $g->{$_} } sort keys %$w;
    is_deeply({ map { $_ => $g->{$_} } @same },
        { map { $_ => $w->{$_} } @same },
        "$name: the values of @same as the SDK's");
    is_deeply([ $got->{method}, $got->{path},
                ($got->{headers}{'content-type'} // '') =~ s/\s+//gr ],
        [ $want->{method}, $want->{path},
          ($want->{headers}{'content-type'} // '') =~ s/\s+//gr ],
        "$name: POST to the token endpoint, the same Content-Type");
}

sub token_case {
    my ($name, $case, $path, $n) = @_;
    my ($r, $log) = logged($sts, sub { oracle({ %sts_case, %$case }) });
    my ($want) = of_kind('token', $log);
    ok($r->[0]{ok} && $want && $want->{status} == 200,
        "$name: the oracle got its token") or diag($JSON->encode($r));
    (undef, $log) = logged($sts, sub {
        rest_ok($n // $t, $path, $wps_sts, $name);
    });
    push @nginx_entries, @$log;
    my @got = of_kind('token', $log);
    is_deeply([ map { $_->{kind} } grep { $_->{kind} ne 'jwks' } @$log ],
        ['token'],
        "$name: one request, to the token endpoint (no discovery)");
    return ($got[0] // {}, $want // {});
}

{
    my ($got, $want) = token_case('client secret',
        { credential => 'secret', client_secret => $SECRET }, '/secret');
    form_compare('client secret', $got, $want, 'client_secret');
    is_deeply([ $got->{form}{client_secret}, $got->{check}{verdict} ],
        [ $want->{form}{client_secret}, 'client_secret valid' ],
        'client secret: the same secret (fingerprint), valid');
}

sub assertion_ok {
    my ($name, $h, $c, $aud) = @_;
    ok(($h->{alg} // '') eq 'PS256' && $h->{typ} eq 'JWT'
        && $h->{'x5t#S256'} eq $cc->{x5t_s256}
        && join(',', sort keys %$h) eq 'alg,typ,x5t#S256',
        "$name: header alg PS256, typ JWT, x5t#S256 of the certificate")
        or diag($JSON->encode($h));
    ok($c->{aud} eq $aud && $c->{iss} eq $client && $c->{sub} eq $client
        && $c->{exp} - $c->{nbf} == 600 && abs($c->{nbf} - time()) < 60
        && $c->{jti} =~ /\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\z/,
        "$name: claims aud, iss, sub, exp - nbf = 600, jti a GUID")
        or diag($JSON->encode($c));
}

{
    my ($got, $want) = token_case('client certificate',
        { credential => 'certificate', cert_path => $cc->{pem} },
        '/certificate');
    form_compare('client certificate', $got, $want, 'client_assertion');
    my ($gc, $wc) = ($got->{check} // {}, $want->{check} // {});
    is_deeply([ $gc->{verdict}, $gc->{assertion_kind} ],
        [ 'certificate assertion valid', 'certificate' ],
        'client certificate: the identity provider verified the assertion');
    is_deeply($gc->{assertion_header}, $wc->{assertion_header},
        "client certificate: the assertion's header is the SDK's");
    is_deeply([ sort keys %{ $gc->{assertion_claims} // {} } ],
        [ sort keys %{ $wc->{assertion_claims} // {} } ],
        "client certificate: the assertion has the SDK's claims");
    assertion_ok('client certificate (identity provider)',
        $gc->{assertion_header} // {}, $gc->{assertion_claims} // {},
        $sts->token_endpoint);
}

# the assertion itself, captured: decoded and verified here
{
    # kept alive: whatever the module does after the answer, it has the
    # time of the second request to do it
    my $from = wps_count($wps_sts);
    my $raw = $t->http("POST /certificate/capture HTTP/1.1\r\n"
        . "Host: localhost\r\nContent-Type: text/plain\r\n"
        . "Cookie: $COOKIE\r\nContent-Length: 5\r\n\r\nhello"
        . "GET /nothing HTTP/1.1\r\nHost: localhost\r\n"
        . "Connection: close\r\n\r\n") // '';
    my ($status, $body) = $raw =~ m{\AHTTP/1\.1 (\d+) .*?\r\n\r\n(\{[^\n]*?\})}s;
    $status //= 0;
    my @after = wps_rest($wps_sts, $from);
    is_deeply(\@after, [], 'a failed fetch: nothing is sent to the service')
        or diag($JSON->encode(\@after));
    my $req = -f "$dir/capture-1.http" ? $t->read_file('capture-1.http') : '';
    my ($line, $head, $form) = $req =~ /\A([^\r\n]*)\r\n(.*?)\r\n\r\n(.*)\z/s;
    my %f = map { my ($k, $v) = split /=/, $_, 2;
                  map { s/\+/ /g; s/%([0-9A-Fa-f]{2})/chr hex $1/ge } $k, $v;
                  ($k => $v) } split /&/, $form // '';
    ok($status == 502 && $body =~ /"error":"token endpoint/,
        'a refusing token endpoint: 502, JSON naming the token endpoint')
        or diag("$status $body");
    # proxy_http_version is 1.1 by default in nginx 1.30, 1.0 up to 1.28
    like($line, qr{\APOST /\Q$tenant\E/oauth2/v2\.0/token HTTP/1\.[01]\z},
        'captured: the request line');
    my ($h, $c, $input, $sig) = eval { jwt_decode($f{client_assertion}) };
    assertion_ok('captured assertion', $h // {}, $c // {},
        "https://127.0.0.1:$cap_port/$tenant/oauth2/v2.0/token");
    my $verified = 0;
    if (defined $sig) {
        $t->write_file('assertion.in', $input);
        $t->write_file('assertion.sig', $sig);
        system("openssl x509 -in '$cc->{cert}' -pubkey -noout "
            . "> '$dir/client.pub' 2>/dev/null");
        $verified = system('openssl dgst -sha256 -sigopt rsa_padding_mode:pss '
            . '-sigopt rsa_pss_saltlen:32 '
            . "-verify '$dir/client.pub' -signature '$dir/assertion.sig' "
            . "'$dir/assertion.in' >/dev/null 2>&1") == 0;
    }
    ok($verified, 'captured: the PS256 signature (salt 32) verifies with '
        . 'the certificate');
    is_deeply([ @f{qw(client_id scope grant_type client_assertion_type)} ],
        [ $client, "$RESOURCE/.default", 'client_credentials',
          'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' ],
        'captured: the form');
    unlike($head, qr/^(cookie|authorization|x-caller):/mi,
        "captured: none of the caller's headers");
}

{
    my ($got, $want) = token_case('workload identity (environment)',
        { credential => 'workload', token_file => "$dir/federated.jwt" },
        '/workload');
    form_compare('workload identity', $got, $want, 'client_assertion');
    is_deeply([ $got->{form}{client_assertion}, $want->{form}{client_assertion},
                $got->{check}{assertion_kind} ],
        [ $fp->($fed_env), $fp->($fed_env), 'federated' ],
        "workload identity: the file's token (line end trimmed), as the SDK's");

    ($got, $want) = token_case('workload identity (parameters)',
        { credential => 'workload', token_file => "$dir/federated-param.jwt" },
        '/workload/param', $tw);
    form_compare('workload identity (parameters)', $got, $want,
        'client_assertion');
    is_deeply([ $got->{form}{client_assertion}, $want->{form}{client_assertion} ],
        [ $fp->($fed_param), $fp->($fed_param) ],
        "workload identity (parameters): token_file='s token, as the SDK's");
}

# a token with less than the 5 minutes of refresh margin left (IMDS hands
# out its cached tokens until they expire): one call, one fetch
{
    $mi->control({ lifetime => 200 });
    my (undef, $log) = logged($mi, sub {
        rest_ok($t, '/imds/short', $wps_mi, 'a token for 200 s');
    });
    $mi->control({ lifetime => 3600 });
    push @nginx_entries, @$log;
    is(scalar(of_kind('imds', $log)), 1,
        'a token for 200 s: one call, one IMDS request');
}

# the token file rotates: a token of 12 s is within nginx's 10 s margin
# 2 s after it came, and the next fetch must read the file anew
{
    $sts->control({ lifetime => 12 });
    my $first_token = $fp->($fed_env);
    my (undef, $log) = logged($sts, sub {
        rest_ok($t, '/workload/rotate', $wps_sts, 'short-lived token');
    });
    my @first = of_kind('token', $log);
    my $rotated = $sts->mint({ federated => JSON::PP::true,
        claims => { jti => 'the-rotated-token' } })->{token};
    $t->write_file('federated-rotate.jwt', $rotated);

    # calls until one fetches again (at most 20 s), then one checked call
    my @second;
    my $deadline = time() + 20;
    while (!@second && time() < $deadline) {
        (undef, $log) = logged($sts, sub { call($t, '/workload/rotate') });
        push @nginx_entries, @$log;
        @second = of_kind('token', $log);
        select(undef, undef, undef, 0.25) unless @second;
    }
    rest_ok($t, '/workload/rotate', $wps_sts, 'after the rotation');
    $sts->control({ lifetime => 3600 });
    is_deeply([ map { $_->{form}{client_assertion} } @first, @second ],
        [ $first_token, $fp->($rotated) ],
        'workload identity: the refetch carries the rotated file\'s token');
}

# an authority without a path: the token endpoint URL gets its "/"
{
    is($tn_started, 1, 'nginx starts with an authority without a path')
        or diag($tn_started);
    my (undef, $log) = logged($sts, sub {
        rest_ok($tn, '/workload/noslash', $wps_sts,
            'AZURE_AUTHORITY_HOST without a path');
    });
    push @nginx_entries, @$log;
    is_deeply([ map { $_->{path} } of_kind('token', $log) ],
        [ "/$tenant/oauth2/v2.0/token" ],
        'AZURE_AUTHORITY_HOST without a path: the token endpoint\'s path');
    call($tn, '/certificate/noslash');
    my $req = -f "$dir/capture-2.http" ? $t->read_file('capture-2.http') : '';
    my ($form) = $req =~ /\r\n\r\n(.*)\z/s;
    my ($a) = ($form // '') =~ /(?:^|&)client_assertion=([^&]*)/;
    my (undef, $c) = eval { jwt_decode($a // '') };
    is(($c // {})->{aud},
        "https://127.0.0.1:$cap_port/$tenant/oauth2/v2.0/token",
        'authority= without a path: the assertion\'s aud');
}

###############################################################################
# What reached the identity provider, and what the error log holds

{
    my @leaks = grep {
        my $h = $_->{headers} // {};
        exists $h->{cookie} || exists $h->{'x-caller'}
            || (exists $h->{authorization})
    } @nginx_entries;
    ok(@nginx_entries >= 15 && !@leaks,
        "none of the caller's headers reached the identity provider ("
        . scalar(@nginx_entries) . ' requests)')
        or diag($JSON->encode(\@leaks));
    my %names;
    $names{$_}++ for map { keys %{ $_->{headers} // {} } } @nginx_entries;
    note('headers nginx sent to the identity provider: '
        . join(' ', sort keys %names));
}

$_->stop(checks => 0) for $ta, $tw, $tn;

{
    my $log = join '', map { $_->error_log } $t, $ta, $tw, $tn;
    my @secrets = ($SECRET, $mi->identity_header, $fed_env, $fed_param,
        'caller-cookie-value-4711', 'caller-authorization-value-4712');
    my ($key_line) = $t->read_file($cc->{key}) =~ /^([A-Za-z0-9+\/]{40,})$/m;
    push @secrets, $key_line if $key_line;
    my @found = grep { index($log, $_) >= 0 } @secrets;
    is_deeply(\@found, [], 'no secret in the error logs');
    unlike($log, qr/eyJ/, 'no token (nothing like a JWT) in the error logs');
    like($t->error_log, qr/fetched the access token of webpubsub_credential/,
        'the error log does say when a token was fetched');
    my @alerts = grep { /\[(alert|crit|emerg)\]/ } split /\n/,
        join '', map { $_->error_log } $ta, $tw, $tn;
    ok(!@alerts, 'the other nginx instances: no alerts')
        or diag(join "\n", @alerts);
}

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
