import board from "board-config";
import { Framer } from "./codec/framer";
new Framer(board.maxPacket, board.maxChunk, function () {}, function () {});
