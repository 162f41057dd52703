{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 5,
   "revision": 0,
   "architecture": "x64"
  },
  "rect": [
   100,
   100,
   640,
   520
  ],
  "boxes": [
   {
    "box": {
     "id": "obj-1",
     "maxclass": "comment",
     "patching_rect": [
      20,
      10,
      560,
      22
     ],
     "numinlets": 0,
     "numoutlets": 0,
     "text": "sfx: drop an imitation, type a label, click generate. Start: sfx serve --reply-port 9002"
    }
   },
   {
    "box": {
     "id": "obj-2",
     "maxclass": "dropfile",
     "patching_rect": [
      20,
      40,
      120,
      22
     ],
     "numinlets": 1,
     "numoutlets": 2
    }
   },
   {
    "box": {
     "id": "obj-3",
     "maxclass": "newobj",
     "patching_rect": [
      20,
      80,
      220,
      22
     ],
     "numinlets": 1,
     "numoutlets": 2,
     "text": "conformpath slash boot"
    }
   },
   {
    "box": {
     "id": "obj-4",
     "maxclass": "newobj",
     "patching_rect": [
      260,
      80,
      90,
      22
     ],
     "numinlets": 1,
     "numoutlets": 1,
     "text": "prepend set"
    }
   },
   {
    "box": {
     "id": "obj-5",
     "maxclass": "message",
     "patching_rect": [
      260,
      110,
      300,
      22
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "text": ""
    }
   },
   {
    "box": {
     "id": "obj-6",
     "maxclass": "textedit",
     "patching_rect": [
      20,
      130,
      200,
      22
     ],
     "numinlets": 1,
     "numoutlets": 4
    }
   },
   {
    "box": {
     "id": "obj-7",
     "maxclass": "newobj",
     "patching_rect": [
      20,
      170,
      80,
      22
     ],
     "numinlets": 1,
     "numoutlets": 1,
     "text": "tosymbol"
    }
   },
   {
    "box": {
     "id": "obj-8",
     "maxclass": "message",
     "patching_rect": [
      260,
      150,
      70,
      22
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "text": "generate"
    }
   },
   {
    "box": {
     "id": "obj-9",
     "maxclass": "newobj",
     "patching_rect": [
      260,
      180,
      70,
      22
     ],
     "numinlets": 5,
     "numoutlets": 4,
     "text": "counter"
    }
   },
   {
    "box": {
     "id": "obj-10",
     "maxclass": "newobj",
     "patching_rect": [
      260,
      210,
      150,
      22
     ],
     "numinlets": 1,
     "numoutlets": 1,
     "text": "sprintf symout max%ld"
    }
   },
   {
    "box": {
     "id": "obj-11",
     "maxclass": "newobj",
     "patching_rect": [
      20,
      250,
      120,
      22
     ],
     "numinlets": 3,
     "numoutlets": 1,
     "text": "pack s s s"
    }
   },
   {
    "box": {
     "id": "obj-12",
     "maxclass": "newobj",
     "patching_rect": [
      20,
      280,
      150,
      22
     ],
     "numinlets": 1,
     "numoutlets": 1,
     "text": "prepend /sfx/generate"
    }
   },
   {
    "box": {
     "id": "obj-13",
     "maxclass": "newobj",
     "patching_rect": [
      20,
      310,
      160,
      22
     ],
     "numinlets": 1,
     "numoutlets": 0,
     "text": "udpsend 127.0.0.1 9001"
    }
   },
   {
    "box": {
     "id": "obj-14",
     "maxclass": "newobj",
     "patching_rect": [
      20,
      360,
      120,
      22
     ],
     "numinlets": 1,
     "numoutlets": 1,
     "text": "udpreceive 9002"
    }
   },
   {
    "box": {
     "id": "obj-15",
     "maxclass": "newobj",
     "patching_rect": [
      20,
      390,
      280,
      22
     ],
     "numinlets": 1,
     "numoutlets": 4,
     "text": "route /sfx/done /sfx/error /sfx/progress"
    }
   },
   {
    "box": {
     "id": "obj-16",
     "maxclass": "newobj",
     "patching_rect": [
      20,
      420,
      80,
      22
     ],
     "numinlets": 2,
     "numoutlets": 2,
     "text": "zl slice 1"
    }
   },
   {
    "box": {
     "id": "obj-17",
     "maxclass": "newobj",
     "patching_rect": [
      120,
      460,
      100,
      22
     ],
     "numinlets": 1,
     "numoutlets": 0,
     "text": "print sfx-done"
    }
   },
   {
    "box": {
     "id": "obj-18",
     "maxclass": "outlet",
     "patching_rect": [
      20,
      460,
      30,
      22
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-19",
     "maxclass": "newobj",
     "patching_rect": [
      240,
      430,
      100,
      22
     ],
     "numinlets": 1,
     "numoutlets": 0,
     "text": "print sfx-error"
    }
   },
   {
    "box": {
     "id": "obj-20",
     "maxclass": "newobj",
     "patching_rect": [
      360,
      430,
      120,
      22
     ],
     "numinlets": 1,
     "numoutlets": 0,
     "text": "print sfx-progress"
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "obj-2",
      0
     ],
     "destination": [
      "obj-3",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      0
     ],
     "destination": [
      "obj-4",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-4",
      0
     ],
     "destination": [
      "obj-5",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      0
     ],
     "destination": [
      "obj-11",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-6",
      0
     ],
     "destination": [
      "obj-7",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-7",
      0
     ],
     "destination": [
      "obj-11",
      2
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-8",
      0
     ],
     "destination": [
      "obj-9",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-9",
      0
     ],
     "destination": [
      "obj-10",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-10",
      0
     ],
     "destination": [
      "obj-11",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-11",
      0
     ],
     "destination": [
      "obj-12",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-12",
      0
     ],
     "destination": [
      "obj-13",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-14",
      0
     ],
     "destination": [
      "obj-15",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-15",
      0
     ],
     "destination": [
      "obj-16",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-16",
      1
     ],
     "destination": [
      "obj-17",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-16",
      1
     ],
     "destination": [
      "obj-18",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-15",
      1
     ],
     "destination": [
      "obj-19",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-15",
      2
     ],
     "destination": [
      "obj-20",
      0
     ]
    }
   }
  ]
 }
}