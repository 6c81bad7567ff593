import { describe, expect, test } from "bun:test";
import * as M from "../../../src/kernel/netlink-msg.ts";
import { addrRequest, defaultRouteRequest, vethRequest } from "../../../src/kernel/netlink.ts";

describe("netlink message encoding", () => {
  test("attributes are length-prefixed and 4-byte aligned", () => {
    const b = M.encodeAttrs([M.attr.str(M.IFLA_IFNAME, "br0"), M.attr.u32(M.IFLA_MTU, 1500)]);
    expect(Array.from(b)).toEqual([8, 0, 3, 0, 98, 114, 48, 0, 8, 0, 4, 0, 0xdc, 0x05, 0, 0]);
    const odd = M.encodeAttrs([M.attr.str(M.IFLA_IFNAME, "eth0")]);
    expect(odd.length).toBe(12); // 4 + "eth0\0" = 9, padded to 12
    expect(new DataView(odd.buffer).getUint16(0, true)).toBe(9);
  });

  test("nlmsghdr carries total length, type, flags and seq", () => {
    const m = M.encodeMessage(M.RTM_NEWLINK, M.NLM_F_REQUEST | M.NLM_F_ACK, 7, new Uint8Array(16));
    const v = new DataView(m.buffer);
    expect([v.getUint32(0, true), v.getUint16(4, true), v.getUint16(6, true), v.getUint32(8, true)]).toEqual([32, 16, 5, 7]);
  });

  test("veth request nests the peer's ifinfomsg and netns fd inside VETH_INFO_PEER", () => {
    const body = vethRequest("vethabc1234", "eth0", { mtu: 1400, peerNetnsFd: 9 });
    const top = M.decodeAttrs(body.subarray(16));
    expect(M.cString(top.get(M.IFLA_IFNAME))).toBe("vethabc1234");
    const info = M.decodeAttrs(top.get(M.IFLA_LINKINFO)!);
    expect(M.cString(info.get(M.IFLA_INFO_KIND))).toBe("veth");
    const peer = M.decodeAttrs(info.get(M.IFLA_INFO_DATA)!).get(M.VETH_INFO_PEER)!;
    const peerAttrs = M.decodeAttrs(peer.subarray(16));
    expect(M.cString(peerAttrs.get(M.IFLA_IFNAME))).toBe("eth0");
    expect(new DataView(peerAttrs.get(M.IFLA_NET_NS_FD)!.buffer, peerAttrs.get(M.IFLA_NET_NS_FD)!.byteOffset).getUint32(0, true)).toBe(9);
  });

  test("address request has local, address and broadcast", () => {
    const b = addrRequest(5, "10.1.2.3", 24);
    expect(Array.from(b.subarray(0, 8))).toEqual([2, 24, 0, 0, 5, 0, 0, 0]);
    const a = M.decodeAttrs(b.subarray(8));
    expect(M.ipv4String(a.get(M.IFA_LOCAL)!)).toBe("10.1.2.3");
    expect(M.ipv4String(a.get(M.IFA_BROADCAST)!)).toBe("10.1.2.255");
  });

  test("default route request: rtmsg for main table, gateway and oif", () => {
    const b = defaultRouteRequest("10.0.0.1", 2);
    expect(Array.from(b.subarray(0, 8))).toEqual([2, 0, 0, 0, 254, 3, 0, 1]);
    expect(M.decodeRoute(b)).toEqual({ family: 2, dstLen: 0, table: 254, type: 1, dst: "0.0.0.0", gateway: "10.0.0.1", oif: 2 });
  });

  test("decodes a link reply and an error ack split from one datagram", () => {
    const link = M.encodeMessage(M.RTM_NEWLINK, M.NLM_F_MULTI, 3, M.concat([
      M.ifinfomsg({ index: 4, flags: M.IFF_UP }),
      M.encodeAttrs([M.attr.str(M.IFLA_IFNAME, "eth0"), M.attr.u32(M.IFLA_MTU, 1400), M.attr.bytes(M.IFLA_ADDRESS, M.macBytes("02:42:0a:00:00:02")),
        M.attr.u32(M.IFLA_MASTER, 7), M.attr.nested(M.IFLA_LINKINFO, [M.attr.str(M.IFLA_INFO_KIND, "veth")])]),
    ]));
    const err = new Uint8Array(20);
    new DataView(err.buffer).setInt32(0, -17, true);
    const ack = M.encodeMessage(M.NLMSG_ERROR, 0, 3, err);
    const msgs = M.decodeMessages(M.concat([link, ack]));
    expect(msgs.map((m) => m.type)).toEqual([M.RTM_NEWLINK, M.NLMSG_ERROR]);
    expect(M.decodeLink(msgs[0]!.body)).toEqual({ index: 4, name: "eth0", flags: 1, up: true, mtu: 1400, mac: "02:42:0a:00:00:02", master: 7, kind: "veth" });
    expect(M.decodeError(msgs[1]!.body)).toBe(17);
  });
});
