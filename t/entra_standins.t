#!/usr/bin/perl

# The Microsoft Entra ID stand-ins against the official packages: every
# @azure/identity credential the module's key-less mode imitates gets a
# token from emulator/identity.js that verifies against its JWKS, and the
# identity provider saw the request shapes nginx must send; @azure/web-pubsub
# with a managed identity works against the emulator in Entra mode, which
# refuses access key tokens and signs its webhooks with a Bearer token
# instead of ce-signature.  No nginx here: the nginx tests build on these.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use JSON::PP;
use POSIX ();
use Time::HiRes qw(sleep time);
use Digest::SHA ();
use WebPubSub::Nginx;
use WebPubSub::Identity;
use WebPubSub::EventApp;

my $SECRET = 'client-secret-of-the-tests';
my $RESOURCE = 'https://webpubsub.azure.com';
my $WEBHOOK_AUD = 'api://webhook-app-of-the-tests';
my $HUB = 'chat';
my $JSON = JSON::PP->new->utf8->canonical;

my $t = WebPubSub::Nginx->new(module => 0);
my $tls = WebPubSub::Identity::server_cert($t);
my $cc = WebPubSub::Identity::client_cert($t, 'client');

# managed identity endpoints are plain HTTP in Azure; the token endpoint
# is HTTPS (msal insists)
my $mi = WebPubSub::Identity->start($t, port => 1, name => 'mi');
my $sts = WebPubSub::Identity->start($t, port => 2, name => 'sts', tls => $tls,
    env => { IDP_CLIENT_SECRET => $SECRET, IDP_CLIENT_CERT => $cc->{cert} });
my $app_port = $t->port(4);
my $app = WebPubSub::EventApp->start($t, $app_port, $HUB, quiet => 1);
my $wps = WebPubSub::Identity::start_emulator($t, idp => $mi, port => 3,
    tls => $tls, env => {
        WPS_EVENT_HANDLER    => "http://127.0.0.1:$app_port/eventhandler/",
        WPS_WEBHOOK_AUDIENCE => $WEBHOOK_AUD,
    });

$t->plan(64);

my $system = $mi->system_identity;
my ($user) = @{ $mi->user_identities };

sub oracle { WebPubSub::Identity::oracle($t, $_[0], ca => $tls->{cert}) }

# the requests one oracle run made: ($result, @log entries)
sub run_logged {
    my ($idp, $case) = @_;
    my $from = $idp->state->{requests};
    my $r = oracle($case);
    return ($r, $idp->log($from));
}

sub last_of {
    my ($kind, @entries) = @_;
    my @k = grep { $_->{kind} eq $kind } @entries;
    return $k[-1];
}

###############################################################################
# Managed identity: IMDS and App Service

my @mi_cases = (
    [ 'imds system-assigned', { credential => 'imds' }, $system, {} ],
    [ 'imds client_id', { credential => 'imds', client_id => $user->{client_id} },
      $user, { client_id => $user->{client_id} } ],
    [ 'imds resource id', { credential => 'imds', resource_id => $user->{resource_id} },
      $user, { msi_res_id => $user->{resource_id} } ],
    [ 'app service system-assigned', { credential => 'appservice' }, $system, {} ],
    [ 'app service client_id',
      { credential => 'appservice', client_id => $user->{client_id} },
      $user, { client_id => $user->{client_id} } ],
    [ 'app service resource id',
      { credential => 'appservice', resource_id => $user->{resource_id} },
      $user, { mi_res_id => $user->{resource_id} } ],
);

for my $c (@mi_cases) {
    my ($name, $case, $who, $pick) = @$c;
    my $imds = $case->{credential} eq 'imds';
    $case->{imds_host} = $mi->origin;
    $case->{identity_endpoint} = $mi->appservice_endpoint;
    $case->{identity_header} = $mi->identity_header;
    $case->{jwks_uri} = $mi->jwks_uri;
    my ($r, @log) = run_logged($mi, $case);
    my $cl = $r->{claims} // {};
    ok($r->{ok} && ($r->{verified} // '') eq '1'
        && $cl->{aud} eq $RESOURCE
        && $cl->{iss} eq 'https://sts.windows.net/' . $mi->tenant . '/'
        && $cl->{tid} eq $mi->tenant && $cl->{oid} eq $who->{object_id}
        && $cl->{appid} eq $who->{client_id}
        && abs($r->{expires_on} / 1000 - $cl->{exp}) <= 2,
        "$name: the token verifies, for that identity")
        or diag($JSON->encode($r));

    my $e = last_of($imds ? 'imds' : 'appservice', @log) // {};
    my %want = (
        'api-version' => $imds ? '2018-02-01' : '2019-08-01',
        resource => $RESOURCE, %$pick);
    is_deeply([ $e->{method}, $e->{query}, $e->{status} ],
        [ 'GET', \%want, 200 ], "$name: the request's query")
        or diag($JSON->encode($e));
    if ($imds) {
        is($e->{headers}{metadata}, 'true', "$name: Metadata: true");
    } else {
        is($e->{headers}{'x-identity-header'},
            WebPubSub::Identity::fingerprint($mi->identity_header),
            "$name: X-IDENTITY-HEADER");
    }
}

# msal takes expires_on as a number, a numeric string or ISO 8601
for my $form (qw(number iso string)) {
    $mi->control({ expires_on_form => $form, lifetime => 7200 });
    my ($r, @log) = run_logged($mi, { credential => 'imds',
        imds_host => $mi->origin });
    my $e = last_of('imds', @log) // {};
    ok($r->{ok} && abs($r->{expires_on} / 1000 - $r->{claims}{exp}) <= 2
        && $r->{claims}{exp} - $r->{claims}{iat} == 7200,
        "expires_on as $form is understood") or diag($JSON->encode($r));
}
$mi->control({ expires_on_form => 'string', lifetime => 3600 });

###############################################################################
# The token endpoint: secret, certificate, workload identity

my %sts_case = (authority_host => $sts->origin, tenant => $sts->tenant,
    client_id => $sts->client_id, jwks_uri => $sts->jwks_uri);

sub v2_token_ok {
    my ($r, $acr, $name) = @_;
    my $cl = $r->{claims} // {};
    ok($r->{ok} && ($r->{verified} // '') eq '1' && $cl->{aud} eq $RESOURCE
        && $cl->{iss} eq $sts->authority . '/v2.0'
        && $cl->{tid} eq $sts->tenant && $cl->{oid} eq $sts->client_oid
        && $cl->{azp} eq $sts->client_id && $cl->{azpacr} eq $acr
        && $cl->{ver} eq '2.0',
        "$name: the token verifies") or diag($JSON->encode($r));
}

sub token_request_ok {
    my ($name, @log) = @_;
    my @kinds = map { $_->{kind} } grep { $_->{kind} ne 'jwks' } @log;
    is("@kinds", 'openid token', "$name: discovery, then the token endpoint");
    my $e = last_of('token', @log) // {};
    is_deeply([ $e->{method}, $e->{path},
                $e->{headers}{'content-type'} =~ s/;.*//r,
                @{ $e->{form} // {} }{qw(grant_type client_id scope)} ],
        [ 'POST', '/' . $sts->tenant . '/oauth2/v2.0/token',
          'application/x-www-form-urlencoded', 'client_credentials',
          $sts->client_id, "$RESOURCE/.default" ],
        "$name: the token request") or diag($JSON->encode($e));
    return $e;
}

{
    my ($r, @log) = run_logged($sts, { %sts_case, credential => 'secret',
        client_secret => $SECRET });
    v2_token_ok($r, '1', 'client secret');
    my $e = token_request_ok('client secret', @log);
    is_deeply([ $e->{form}{client_secret}, $e->{check}{verdict} ],
        [ WebPubSub::Identity::fingerprint($SECRET), 'client_secret valid' ],
        'client secret: sent as client_secret');

    ($r, @log) = run_logged($sts, { %sts_case, credential => 'secret',
        client_secret => 'not-the-secret' });
    $e = last_of('token', @log) // {};
    ok(!$r->{ok} && $r->{message} =~ /invalid_client/
        && $r->{message} =~ /AADSTS7000215/ && $e->{status} == 401,
        'a wrong secret: 401 invalid_client') or diag($JSON->encode($r));
}

{
    my ($r, @log) = run_logged($sts, { %sts_case, credential => 'certificate',
        cert_path => $cc->{pem} });
    v2_token_ok($r, '2', 'client certificate');
    my $e = token_request_ok('client certificate', @log);
    my ($h, $c) = @{ $e->{check} // {} }{qw(assertion_header assertion_claims)};
    is_deeply([ $e->{form}{client_assertion_type}, $e->{check}{assertion_kind},
                $e->{check}{verdict} ],
        [ 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          'certificate', 'certificate assertion valid' ],
        'client certificate: a verified assertion');
    is_deeply([ $h->{alg}, $h->{typ}, $h->{'x5t#S256'} ],
        [ 'PS256', 'JWT', $cc->{x5t_s256} ],
        'client certificate: the assertion header');
    ok($c->{aud} eq $sts->token_endpoint && $c->{iss} eq $sts->client_id
        && $c->{sub} eq $sts->client_id && $c->{exp} - $c->{nbf} == 600
        && $c->{jti} =~ /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
        'client certificate: the assertion claims') or diag($JSON->encode($c));
}

{
    my $fed = $sts->mint({ federated => JSON::PP::true })->{token};
    $t->write_file('federated.jwt', $fed);
    my ($r, @log) = run_logged($sts, { %sts_case, credential => 'workload',
        token_file => $t->testdir . '/federated.jwt' });
    v2_token_ok($r, '2', 'workload identity');
    my $e = token_request_ok('workload identity', @log);
    is_deeply([ $e->{form}{client_assertion}, $e->{form}{client_assertion_type},
                $e->{check}{assertion_kind} ],
        [ WebPubSub::Identity::fingerprint($fed),
          'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', 'federated' ],
        'workload identity: the file, as it is, is the assertion');

    # a federated token not signed by the provider is refused
    $t->write_file('federated.jwt',
        $sts->mint({ federated => JSON::PP::true, key => 'foreign' })->{token});
    ($r, @log) = run_logged($sts, { %sts_case, credential => 'workload',
        token_file => $t->testdir . '/federated.jwt' });
    ok(!$r->{ok} && $r->{message} =~ /invalid_client/,
        'workload identity: a forged federated token is refused');
}

# failures on demand: one answer of the token endpoint
{
    $sts->control({ mode => 'status', status => 400, only => ['token'],
        count => 1, body => { error => 'invalid_request',
                              error_description => 'told to fail' } });
    my ($r) = run_logged($sts, { %sts_case, credential => 'secret',
        client_secret => $SECRET });
    ok(!$r->{ok} && $r->{message} =~ /told to fail/, 'status mode: the error is seen');
    ($r) = run_logged($sts, { %sts_case, credential => 'secret',
        client_secret => $SECRET });
    ok($r->{ok}, 'status mode with count 1: the next request succeeds');

    $sts->control({ refresh_in => 1200 });
    ($r) = run_logged($sts, { %sts_case, credential => 'secret',
        client_secret => $SECRET });
    ok($r->{ok} && abs($r->{refresh_after} / 1000 - time() - 1200) < 30,
        'refresh_in reaches the credential') or diag($JSON->encode($r));
    $sts->control({ refresh_in => undef });
}

###############################################################################
# Key rotation

{
    my $before = $sts->mint({})->{token};
    my $old = $sts->jwks->{keys}[0]{kid};
    $sts->control({ rotate_key => JSON::PP::true });
    my $keys = $sts->jwks->{keys};
    ok(@$keys == 1 && $keys->[0]{kid} ne $old && $keys->[0]{kty} eq 'RSA'
        && $keys->[0]{use} eq 'sig' && $keys->[0]{n} && $keys->[0]{e}
        && $keys->[0]{x5t}, 'rotate_key: one new key in the JWKS');
    my $v = WebPubSub::Identity::verify_token($t, $before,
        jwks_uri => $sts->jwks_uri, audience => $RESOURCE, ca => $tls->{cert});
    isnt($v->{verified}, 1, 'rotate_key: a token of the old key no longer verifies');
    $v = WebPubSub::Identity::verify_token($t, $sts->mint({})->{token},
        jwks_uri => $sts->jwks_uri, audience => $RESOURCE, ca => $tls->{cert});
    is($v->{verified}, 1, 'rotate_key: a new token verifies');
}

###############################################################################
# The emulator in Entra mode

{
    my $from = $mi->state->{requests};
    my $r = oracle({ credential => 'imds', imds_host => $mi->origin,
        webpubsub => { endpoint => $wps->endpoint, hub => $HUB, user_id => 'u1',
                       roles => ['webpubsub.sendToGroup.g1'], groups => ['g1'],
                       minutes => 5, send => 'hello', connect => JSON::PP::true } });
    my $w = $r->{webpubsub} // {};
    my $c = $w->{token_claims} // {};
    ok($r->{ok} && !$w->{error} && $w->{token_header}{kid} =~ /^s-/
        && $w->{token_header}{alg} eq 'HS256'
        && $c->{aud} eq $wps->endpoint . "/client/hubs/$HUB" && $c->{sub} eq 'u1'
        && "@{ $c->{role} }" eq 'webpubsub.sendToGroup.g1'
        && "@{ $c->{'webpubsub.group'} }" eq 'g1' && $c->{exp} - $c->{iat} == 300,
        'web-pubsub SDK: a client token from :generateToken')
        or diag($JSON->encode($r));
    is($w->{connect}, 'open', 'web-pubsub SDK: the client token opens a connection');
    is($w->{send_status}, 202, 'web-pubsub SDK: sendToAll 202');

    my @rest = grep { $_->{kind} eq 'rest' } $wps->log_entries;
    is_deeply([ map { [ $_->{op}, $_->{status}, $_->{auth} ] } @rest[-2, -1] ],
        [ [ 'generateToken', 200, 'entra token valid' ],
          [ 'sendToAll', 202, 'entra token valid' ] ],
        'emulator: both calls carried a valid Entra token');
    my @imds = grep { $_->{kind} eq 'imds'
        && $_->{query}{resource} eq $RESOURCE } $mi->log($from);
    ok(@imds >= 1, 'the SDK got its token from IMDS');
}

# REST calls with other tokens, sent by curl
sub rest_status {
    my ($token) = @_;
    my $url = $wps->endpoint . "/api/hubs/$HUB/:send?api-version=2024-12-01";
    my $pid = open(my $fh, '-|') // die "fork: $!\n";
    if ($pid == 0) {
        exec('curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '10',
            '--cacert', $tls->{cert}, '-H', 'Content-Type: text/plain',
            ($token ? ('-H', "Authorization: Bearer $token") : ()),
            '--data-binary', 'hi', $url) or POSIX::_exit(127);
    }
    local $/;
    my $status = <$fh>;
    close $fh;
    return $status;
}

{
    my $url = $wps->endpoint . "/api/hubs/$HUB/:send?api-version=2024-12-01";
    my $now = time();
    my $key_token = join '.', map { b64url_encode($_) }
        '{"alg":"HS256","typ":"JWT"}',
        $JSON->encode({ aud => $url, iat => int($now), exp => int($now) + 3600 });
    $key_token .= '.' . b64url_encode(
        Digest::SHA::hmac_sha256("$key_token", 'any-access-key'));
    is(rest_status($key_token), '401', 'an access key token gets 401');
    is(rest_status(undef), '401', 'no token gets 401');
    is(rest_status($mi->mint({})->{token}), '202', 'a minted Entra token gets 202');
    is(rest_status($mi->mint({ exp_in => -400 })->{token}), '401',
        'an Entra token expired beyond the skew gets 401');
    is(rest_status($mi->mint({ exp_in => -200 })->{token}), '202',
        'an Entra token expired within the skew gets 202');
    is(rest_status($mi->mint({ aud => 'https://management.azure.com' })->{token}),
        '401', 'another audience gets 401');
    is(rest_status($mi->mint({ tid => '00000000-0000-0000-0000-000000000001' })
        ->{token}), '401', 'another tenant gets 401');
    is(rest_status($mi->mint({ alg => 'HS256' })->{token}), '401',
        'HS256 keyed with the public key gets 401');
    is(rest_status($mi->mint({ alg => 'none' })->{token}), '401', 'alg none gets 401');
    is(rest_status($mi->mint({ key => 'foreign' })->{token}), '401',
        'an unpublished key gets 401');

}

###############################################################################
# Webhooks in Entra mode

{
    my @connects = grep { $_->{arrived} && $_->{method} eq 'POST'
        && ($_->{headers}{'ce-eventname'} // '') eq 'connect' } $app->log;
    ok(@connects >= 1, 'the connect event reached the app');
    my $h = $connects[0]{headers} // {};
    ok(!exists $h->{'ce-signature'}, 'no ce-signature');
    my ($token) = ($h->{authorization} // '') =~ /^Bearer (\S+)$/;
    ok($token, 'Authorization: Bearer');
    my $v = WebPubSub::Identity::verify_token($t, $token // 'none',
        jwks_uri => $mi->jwks_uri, audience => $WEBHOOK_AUD,
        issuer => 'https://sts.windows.net/' . $mi->tenant . '/');
    is($v->{verified}, 1, 'the webhook token verifies against the JWKS')
        or diag($JSON->encode($v));
    my $c = $v->{claims} // {};
    ok($c->{aud} eq $WEBHOOK_AUD && $c->{oid} eq $system->{object_id}
        && $c->{appid} eq $system->{client_id} && $v->{header}{alg} eq 'RS256',
        'the webhook token is the service identity\'s, for the app');
}

# the emulator follows a rotation: the new kid is fetched
$mi->control({ rotate_key => JSON::PP::true });
is(rest_status($mi->mint({})->{token}), '202',
    'after a key rotation the new kid is fetched');

$t->done();
