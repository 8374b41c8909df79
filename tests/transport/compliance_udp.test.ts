/** Runs the transport compliance suite against the UDP backend on IPv4 and IPv6 loopback. */
import { UDP_LOOPBACK_MTU } from "../../transport/backends/udp.ts";
import { describeTransportCompliance } from "./compliance.ts";
import { udpFixture } from "./udp_fixture.ts";

describeTransportCompliance(udpFixture("udp 127.0.0.1 (LAN mtu)"));
describeTransportCompliance(udpFixture("udp [::1] (loopback mtu)", { host: "::1", mtu: UDP_LOOPBACK_MTU }));
